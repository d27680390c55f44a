import Foundation

/// JSON encoding for values stored as text (payloads, results): sorted keys and no escaped slashes, so the same
/// value always gives the same text and an operator can read it.
public enum JSONText {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `encode(fields)` without JSONEncoder, for the hot paths that store headers and the like.
    public static func encode(strings fields: [String: String]) -> String {
        var writer = JSONWriter(capacity: fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        writer.bytes.append(UInt8(ascii: "{"))
        for (position, field) in fields.sorted(by: { JSONWriter.precedes($0.key, $1.key) }).enumerated() {
            if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            writer.write(string: field.key)
            writer.bytes.append(UInt8(ascii: ":"))
            writer.write(string: field.value)
        }
        writer.bytes.append(UInt8(ascii: "}"))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `encode(ids)` without JSONEncoder, for the hot paths that store lists of row ids.
    public static func encode(ids: [Int64]) -> String {
        var writer = JSONWriter(capacity: 2 + ids.count * 8)
        writer.bytes.append(UInt8(ascii: "["))
        for (position, id) in ids.enumerated() {
            if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            writer.write(integer: id)
        }
        writer.bytes.append(UInt8(ascii: "]"))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(text.utf8))
    }
}
