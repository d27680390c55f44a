import Foundation
import Logging
import Synchronization

/// Text log lines appended to a file, one write per line, the way `serve` writes to a redirected stderr.
/// In-process runs use it so that they pay for logging like the real process does, without the bench's own
/// terminal output drowning in it.
struct FileLogHandler: LogHandler {
    final class Sink: Sendable {
        private let descriptor: Mutex<Int32>
        init(path: String) {
            descriptor = Mutex(open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644))
        }
        func write(_ line: String) {
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            descriptor.withLock { fd in
                guard fd >= 0 else { return }
                _ = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            }
        }
        deinit { descriptor.withLock { if $0 >= 0 { close($0) } } }
    }

    let label: String
    let sink: Sink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        sink.write("\(Self.timestamp()) \(event.level) \(label) :\(fields.isEmpty ? "" : " " + fields) \(event.message)")
    }

    /// StreamLogHandler's own format and method (strftime), so a line costs what it costs in `serve`.
    private static func timestamp() -> String {
        var buffer = [Int8](repeating: 0, count: 64)
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func logger(label: String, path: String, level: Logger.Level) -> Logger {
        let sink = Sink(path: path)
        var logger = Logger(label: label) { FileLogHandler(label: $0, sink: sink) }
        logger.logLevel = level
        return logger
    }
}
