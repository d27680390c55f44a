extension JSONValue {
    /// Compact JSON with sorted keys and unescaped slashes: byte for byte what `JSONText.encode(self)` gives,
    /// without `JSONEncoder`. Where `JSONText.encode` throws, this still writes: a NaN or infinite number is
    /// written `null` (as JavaScript's `JSON.stringify` does), and nesting deeper than the 511 levels
    /// `JSONEncoder` allows is written out.
    public var jsonText: String {
        String(decoding: jsonBytes, as: UTF8.self)
    }

    /// `jsonText` as UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }
}

/// The byte-level writer behind `JSONValue.jsonText` and the `JSONText` shortcuts. Every choice below copies
/// Foundation's `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`, which is what stored text has
/// always been written with; the tests hold the two to the same bytes.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .number(let number): write(number: number)
        case .string(let string): write(string: string)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let fields):
            bytes.append(UInt8(ascii: "{"))
            for (position, field) in fields.sorted(by: { Self.precedes($0.key, $1.key) }).enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                write(string: field.key)
                bytes.append(UInt8(ascii: ":"))
                write(field.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// `JSONValue.encode(to:)`'s rule: integral values below 10^15 as an `Int64`, the rest as `Double`.
    mutating func write(number: Double) {
        if number.rounded() == number, abs(number) < 1e15 {
            write(integer: Int64(number))
        } else if number.isFinite {
            // JSONEncoder writes `description` minus a trailing ".0" ("1e+16", "0.1", "1.5e-07").
            var text = number.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            bytes.append(contentsOf: text.utf8)
        } else {
            append("null")
        }
    }

    mutating func write(integer: Int64) {
        if integer < 0 { bytes.append(UInt8(ascii: "-")) }
        // The magnitude as UInt64, so that Int64.min does not overflow on negation.
        var magnitude = integer.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of any UInt64
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// Quotes and backslashes escaped, \b \f \n \r \t by name, other C0 controls as \u00xx with lowercase hex;
    /// everything else as is, including "/", DEL, U+2028 and U+2029 (JSONEncoder's choices).
    mutating func write(string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for position in 0..<utf8.count {
                let byte = utf8[position]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if runStart < position { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<position])) }
                runStart = position + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    let low = byte & 0x0F
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              UInt8(ascii: "0") + byte >> 4,
                                              low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10])
                }
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// JSONEncoder's `.sortedKeys` order outside Apple platforms: the keys' UTF-8 bytes compared lexicographically
    /// (not `String.<`, which compares canonical equivalents equal and orders by scalar after normalization).
    static func precedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right in
                let common = min(left.count, right.count)
                for position in 0..<common where left[position] != right[position] {
                    return left[position] < right[position]
                }
                return left.count < right.count
            }
        }
        if let fast = fast ?? nil { return fast }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
