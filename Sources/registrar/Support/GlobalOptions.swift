import ArgumentParser
import Foundation
import Logging
import RegistrarCore
import RegistrarStore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: ./registrar.yaml when present, else built-in defaults).")
    var config: String?

    /// The configuration in force: file, then environment overrides, then defaults.
    func loadConfig() throws -> RegistrarConfig {
        let environment = ProcessInfo.processInfo.environment
        let loader = ConfigLoader(environment: environment)
        let path = config ?? "registrar.yaml"
        let text: String?
        if FileManager.default.fileExists(atPath: path) {
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw CLIError("\(path): cannot read: \(error.localizedDescription)")
            }
        } else if config != nil {
            throw CLIError("\(path): no such configuration file")
        } else {
            text = nil
        }
        do {
            var loaded = try loader.load(text: text, file: text == nil ? "(built-in defaults)" : path)
            var info = stat()
            if text != nil, stat(path, &info) == 0 { loaded.file = (path, UInt32(info.st_mode) & 0o7777) }
            return loaded
        } catch let error as ConfigError {
            throw CLIError(error.description)
        }
    }

    func openStore(_ config: RegistrarConfig) async throws -> any RegistrarStorage {
        try await Storage.open(config)
    }
}

/// A failure to report to the operator in one sentence, exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Who is running an operator command, for the audit trail.
func operatorName() -> String {
    let environment = ProcessInfo.processInfo.environment
    let user = environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? "unknown"
    return "cli:\(user)"
}
