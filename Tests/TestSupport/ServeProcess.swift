import Foundation
import Synchronization

/// `registrar serve` as a real child process, on a port it picks itself (port 0, read back from its log).
public final class ServeProcess: Sendable {
    public let process: Process
    public let output = LogBuffer()
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// - Parameter openFilesSoftLimit: starts serve with this soft open-files limit (as a shell or systemd would
    ///   give it) instead of the test process's own, which a child would inherit.
    public init(configPath: String, workingDirectory: String, environment extra: [String: String] = [:],
                openFilesSoftLimit: Int? = nil) throws {
        process = Process()
        if let openFilesSoftLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", #"ulimit -Sn \#(openFilesSoftLimit) 2>/dev/null; exec "$0" serve --config "$1""#,
                                 registrarBinary(), configPath]
        } else {
            process.executableURL = URL(fileURLWithPath: registrarBinary())
            process.arguments = ["serve", "--config", configPath]
        }
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
            // Text logs write address=http://…, JSON logs "address":"http://…".
            found = text.range(of: #"address"?[=:] ?"?http://127\.0\.0\.1:(\d+)"#, options: .regularExpression).map { range in
                Int(text[range].split(separator: ":").last!)!
            }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw ServeError.didNotStart(output.text)
        }
        port = found
    }

    public var log: String { output.text }

    /// A test that fails before stopping its server must not leave the process behind.
    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// SIGTERM, then wait for the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { signal(SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: for tests done with it whatever state it is in.
    public func forceStop() {
        if process.isRunning {
            signal(SIGKILL)
            process.waitUntilExit()
        }
    }

    public enum ServeError: Error, CustomStringConvertible {
        case didNotStart(String)
        public var description: String {
            switch self { case .didNotStart(let log): "registrar serve did not start:\n\(log)" }
        }
    }
}
