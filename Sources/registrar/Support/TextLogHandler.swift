import Foundation
import Logging
import RegistrarCore
import Synchronization

/// Text lines on stderr in exactly `StreamLogHandler`'s format
/// (`2026-11-22T10:15:02+0000 info registrar: delivery_id=7 store=main [RegistrarServer] delivery recorded`),
/// written the way a daemon logging every delivery needs: `StreamLogHandler` calls `localtime` per line, which
/// in glibc stats /etc/localtime each time, and goes through stdio; this formats the time once a second and
/// writes each line with one `write(2)`.
struct TextLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:] {
        didSet { prettyMetadata = Self.prettify(metadata) }
    }
    private var prettyMetadata: String?
    private let label: String
    private let output: LogOutput

    init(label: String, output: LogOutput = .standardError) {
        self.label = label
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = output.timestamp()
        line += " \(event.level)"
        if !label.isEmpty { line += " " + label }
        line += ":"
        if event.error != nil || !(event.metadata?.isEmpty ?? true) {
            var merged = metadata
            if let explicit = event.metadata {
                if merged.isEmpty { merged = explicit } else { merged.merge(explicit) { $1 } }
            }
            if let error = event.error {
                merged["error.message"] = "\(error)"
                merged["error.type"] = "\(String(reflecting: type(of: error)))"
            }
            Self.append(merged, to: &line)
        } else if let prettyMetadata {
            line += " " + prettyMetadata
        }
        line += " [\(event.source)] " + ControlCharacterEscaping.escaped("\(event.message)") + "\n"
        output.write(line)
    }

    static func prettify(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        var text = ""
        append(metadata, to: &text)
        return String(text.dropFirst())
    }

    /// " key=value" for each entry, keys in order, as `StreamLogHandler` prints them.
    private static func append(_ metadata: Logger.Metadata, to line: inout String) {
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += ControlCharacterEscaping.escaped(key)
            line += "="
            if case .string(let text) = value { line += ControlCharacterEscaping.escaped(text) }
            else { line += ControlCharacterEscaping.escaped(value.description) }
        }
    }
}

/// Where text log lines go: a file descriptor, written a whole line at a time so lines from concurrent loggers
/// never interleave, and the local time of the current second, formatted once.
final class LogOutput: Sendable {
    static let standardError = LogOutput(descriptor: 2)

    private let descriptor: Int32
    private let clock = Mutex<(second: Int, text: String)>((-1, ""))
    private let utcClock = Mutex<(second: Int, text: String)>((-1, ""))
    private let writing = Mutex(())

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// `strftime("%Y-%m-%dT%H:%M:%S%z")` of the local time, as `StreamLogHandler` prints it.
    func timestamp() -> String {
        // localtime_r, unlike localtime, does not re-read the zone file on every call.
        Self.second(time(nil), cache: clock, format: "%Y-%m-%dT%H:%M:%S%z") { localtime_r($0, $1) }
    }

    /// ISO 8601 in UTC with milliseconds ("2026-11-22T10:15:02.123Z"), for JSON lines.
    func utcTimestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let milliseconds = Int(spec.tv_nsec / 1_000_000)
        let fraction = milliseconds < 10 ? ".00\(milliseconds)Z" : milliseconds < 100 ? ".0\(milliseconds)Z" : ".\(milliseconds)Z"
        return Self.second(spec.tv_sec, cache: utcClock, format: "%Y-%m-%dT%H:%M:%S") { gmtime_r($0, $1) } + fraction
    }

    /// `now` formatted with `format`, at most once a second per cache.
    private static func second(_ now: time_t, cache: borrowing Mutex<(second: Int, text: String)>, format: String,
                               convert: (UnsafePointer<time_t>, UnsafeMutablePointer<tm>) -> UnsafeMutablePointer<tm>?)
        -> String {
        if let cached = cache.withLock({ $0.second == now ? $0.text : nil }) { return cached }
        var now = now
        var parts = tm()
        guard convert(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { strftime($0, bytes.count, format, &parts) }
        }
        let text = String(decoding: buffer[..<length], as: UTF8.self)
        cache.withLock { $0 = (now, text) }
        return text
    }

    func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            writing.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return // A log that cannot be written must not stop intake.
                    }
                }
            }
        }
    }
}
