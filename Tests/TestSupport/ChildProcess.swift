import Foundation
import Synchronization

/// Output collected from a child process as it arrives.
public final class LogBuffer: Sendable {
    private let storage = Mutex("")
    public init() {}
    public func append(_ text: String) { storage.withLock { $0 += text } }
    public var text: String { storage.withLock { $0 } }
}

public struct ProcessResult: Sendable {
    public var status: Int32
    public var output: String
}

/// Runs the built `registrar` with `arguments`, stdout and stderr together, as an operator's shell would, and
/// waits for it to exit. The wait happens on a thread of its own: a test that blocked one of the few threads of
/// the concurrency pool while the process waits for something in this test process (the sandbox, a job) could
/// deadlock the whole run.
public func runRegistrar(_ arguments: [String], workingDirectory: String? = nil, environment extra: [String: String] = [:])
    async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: registrarBinary())
                process.arguments = arguments
                var environment = ProcessInfo.processInfo.environment
                for (key, value) in extra { environment[key] = value }
                process.environment = environment
                if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: ProcessResult(status: process.terminationStatus,
                                                             output: String(decoding: data, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}
