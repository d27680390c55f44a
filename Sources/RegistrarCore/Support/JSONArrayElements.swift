/// The byte ranges of a JSON array's elements, found without parsing them: catch-up records each listed order
/// with the exact bytes the store sent, as a webhook delivery keeps its body, and parses each once, with the
/// webhooks' parser. Checks only the array's structure (brackets, strings, commas); an element that is not
/// valid JSON is found out by whoever parses it.
public enum JSONArrayElements {
    public struct Malformed: Error, Sendable, Equatable {
        /// Byte offset of the problem.
        public var offset: Int
        public var message: String
    }

    public static func ranges(_ bytes: [UInt8]) -> Result<[Range<Int>], Malformed> {
        var index = 0
        func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }
        skipSpace()
        // A UTF-8 byte order mark, which some PHP setups emit before the body.
        if bytes.count >= index + 3, bytes[index] == 0xEF, bytes[index + 1] == 0xBB, bytes[index + 2] == 0xBF {
            index += 3
            skipSpace()
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            return .failure(Malformed(offset: index, message: "expected a JSON array"))
        }
        index += 1
        var ranges: [Range<Int>] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            skipSpace()
            return index == bytes.count ? .success([]) : .failure(Malformed(offset: index, message: "text after the array"))
        }
        while true {
            skipSpace()
            let start = index
            var depth = 0
            var inString = false
            elementLoop: while index < bytes.count {
                let byte = bytes[index]
                if inString {
                    if byte == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if byte == UInt8(ascii: "\"") { inString = false }
                    index += 1
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 { break elementLoop }
                    depth -= 1
                case UInt8(ascii: ","):
                    if depth == 0 { break elementLoop }
                default: break
                }
                index += 1
            }
            guard index < bytes.count, !inString else {
                return .failure(Malformed(offset: min(index, bytes.count), message: "the array is not closed"))
            }
            var end = index
            while end > start, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[end - 1]) { end -= 1 }
            guard end > start else { return .failure(Malformed(offset: start, message: "an empty element")) }
            ranges.append(start..<end)
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else {
                return .failure(Malformed(offset: index, message: "unbalanced \"\(Character(UnicodeScalar(bytes[index])))\""))
            }
            index += 1
            skipSpace()
            return index == bytes.count ? .success(ranges) : .failure(Malformed(offset: index, message: "text after the array"))
        }
    }
}
