import Logging
import RegistrarCore

/// One JSON object per line on stderr, for log shippers: `time` (UTC, milliseconds), `level`, `label`,
/// `message`, `source`, `file`, `function`, `line`, `error` when the call passed one, and the metadata as
/// top-level fields (never replacing those). Built with the project's JSON writer (sorted keys, every control
/// character escaped, so a value can never break a line) and written with one `write(2)` per line.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
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
        output.write(Self.line(event, label: label, metadata: metadata, time: output.utcTimestamp()))
    }

    /// The line for one event, newline included.
    static func line(_ event: LogEvent, label: String, metadata: Logger.Metadata, time: String) -> String {
        var fields: [String: JSONValue] = [
            "time": .string(time),
            "level": .string(event.level.rawValue),
            "label": .string(label),
            "message": .string(event.message.description),
            "source": .string(event.source),
            "file": .string(event.file),
            "function": .string(event.function),
            "line": .number(Double(event.line)),
        ]
        if let error = event.error {
            fields["error"] = .string("\(error)")
            fields["error_type"] = .string(String(reflecting: type(of: error)))
        }
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        for (key, value) in merged where fields[key] == nil { fields[key] = plain(value) }
        return JSONValue.object(fields).jsonText + "\n"
    }

    private static func plain(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let items): .array(items.map(plain))
        case .dictionary(let dictionary): .object(dictionary.mapValues(plain))
        }
    }
}
