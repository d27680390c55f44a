import Foundation
import Synchronization
import TestSupport

/// `registrar serve` as a real child process, on a port it picks itself (port 0, read back from its log).
final class ServeProcess: Sendable {
    let process: Process
    let output = LogBuffer()
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(configPath: String, workingDirectory: String, environment extra: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: registrarBinary())
        process.arguments = ["serve", "--config", configPath]
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.append(String(decoding: data, as: UTF8.self)) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while Date() < deadline, found == nil, process.isRunning {
            let text = output.text
            found = text.range(of: #"address"?[=:]"?http://127\.0\.0\.1:(\d+)"#, options: .regularExpression).map { range in
                Int(text[range].split(separator: ":").last!)!
            }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else {
            process.terminate()
            throw ServeError.didNotStart(output.text)
        }
        port = found
    }

    var log: String { output.text }

    /// A test that fails before stopping its server must not leave the process behind.
    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// SIGTERM, then wait for the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { signal(SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    enum ServeError: Error, CustomStringConvertible {
        case didNotStart(String)
        var description: String {
            switch self { case .didNotStart(let log): "registrar serve did not start:\n\(log)" }
        }
    }
}
