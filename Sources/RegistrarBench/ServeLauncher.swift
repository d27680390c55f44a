import Foundation

/// `registrar serve` as a real child process: the binary operators run, with its own runtime, allocator,
/// logging and SQLite connections, so intake figures and RSS are those of the deployed daemon.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logPath: String
    var pid: Int32 { process.processIdentifier }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts `binary serve --config configPath`, its stderr (where serve logs) going to `logPath`, and
    /// returns once the log names the port it listens on.
    init(binary: String, configPath: String, logPath: String, environment extra: [String: String] = [:]) throws {
        self.logPath = logPath
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
              let log = FileHandle(forWritingAtPath: logPath) else { throw BenchError("cannot write \(logPath)") }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", configPath]
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            found = text.range(of: #"address=http://127\.0\.0\.1:(\d+)"#, options: .regularExpression)
                .flatMap { Int(text[$0].split(separator: ":").last ?? "") }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else {
            if process.isRunning { process.terminate() }
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw BenchError("registrar serve did not start within 30 s:\n\(text.suffix(2000))")
        }
        port = found
    }

    var memory: ProcessMemory? { ProcessMemory.read(pid: pid) }

    /// SIGTERM (serve's graceful shutdown), SIGKILL if it has not exited after `grace`.
    @discardableResult
    func stop(grace: TimeInterval = 30) -> Int32 {
        if process.isRunning { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// The `registrar` binary: given, or built next to this one (`swift build -c release` builds both).
func locateRegistrarBinary(_ explicit: String?) throws -> String {
    if let explicit {
        guard FileManager.default.isExecutableFile(atPath: explicit) else { throw BenchError("\(explicit) is not executable") }
        return explicit
    }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let sibling = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("registrar").path
    guard FileManager.default.isExecutableFile(atPath: sibling) else {
        throw BenchError("no registrar binary next to \(exe): build it with `swift build -c release` or pass --registrar PATH")
    }
    return sibling
}

/// The path and build time of the measured binary: `swift run registrar-bench` does not rebuild `registrar`
/// (it is not a dependency), so a stale one would otherwise go unnoticed.
func describeBinary(_ path: String) -> String {
    let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    return path + (modified.map { " (built \(ISO8601DateFormatter().string(from: $0)))" } ?? "")
}

/// The configuration `serve` runs with in the benchmarks: production defaults except that Open edX is the
/// sandbox and the one WooCommerce store is the bench's.
func serveConfiguration(database: String, sandboxURL: String, logLevel: String) -> String {
    """
    # Written by registrar-bench. Everything not set here is the production default
    # (16 workers, 120 Open edX requests/min, synchronous=FULL, WAL).
    database: \(database)
    server: {host: 127.0.0.1, port: 0}
    openedx:
      lms_url: \(sandboxURL)
      studio_url: \(sandboxURL)
      client_secret: sandbox-secret
    woocommerce:
      stores:
        main: {webhook_secret: \(WooOrderWebhooks.secret)}
    catalog:
      - {store: main, product_id: 93, course_id: "course-v1:edX+DemoX+2026", mode: audit}
    logging: {level: \(logLevel)}

    """
}

/// A folder for one run's database and logs, removed afterwards unless asked to keep it.
final class WorkDirectory: Sendable {
    let path: String
    let keep: Bool

    init(parent: String?, scenario: String, keep: Bool) throws {
        let base = parent ?? FileManager.default.temporaryDirectory.path
        path = base + "/registrar-bench-\(scenario)-\(UUID().uuidString.prefix(8).lowercased())"
        self.keep = keep
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        if !keep { try? FileManager.default.removeItem(atPath: path) }
    }
}
