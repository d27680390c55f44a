/// Why a text is not JSON, in words an operator can act on, with the byte offset where reading stopped.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// Zero-based offset into the input of the byte the message is about.
    public let offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}

/// What to do with an object that names the same key twice. RFC 8259 leaves it to the reader.
public enum JSONDuplicateKeys: Sendable {
    /// The last value wins, as in JavaScript's `JSON.parse` and PHP's `json_decode`.
    case lastWins
    /// The first value wins, as in Foundation's `JSONDecoder`.
    case firstWins
    /// The document is refused.
    case reject
}

extension JSONValue {
    /// Deeper documents are refused. The reader itself does not recurse, but what is done with a value does
    /// (`==`, writing it, releasing it), so the bound keeps a hostile body from overflowing the stack later. It
    /// is Foundation's `JSONDecoder`'s (512 levels read, 513 refused), so nothing that used to be read is refused.
    public static let maximumNestingDepth = 512

    /// Reads one JSON text (RFC 8259, strictly: UTF-8 only, no comments, no trailing commas; a leading UTF-8 byte
    /// order mark is ignored, as the RFC allows). Offsets in errors count from the first byte, mark included.
    /// Numbers become the `Double` that `Double(String)` gives; a number that overflows to infinity, or a
    /// non-zero one that rounds to zero, is refused, as `JSONDecoder` refuses it.
    public static func parse(bytes: some Collection<UInt8>,
                             duplicateKeys: JSONDuplicateKeys = .lastWins) throws(JSONSyntaxError) -> JSONValue {
        // `withContiguousStorageIfAvailable` rethrows untyped, so the typed error travels in a Result.
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) in
                try JSONReader.read(buffer, duplicateKeys: duplicateKeys, selection: .everything)
            }
        }
        if let contiguous { return try contiguous.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
            try JSONReader.read(buffer, duplicateKeys: duplicateKeys, selection: .everything)
        }
    }
}

/// A reader over a byte buffer. Containers are tracked on a heap-allocated stack of frames rather than by
/// recursion, so no input can exhaust the thread's stack in any build (a debug build needs kilobytes of stack per
/// level of a recursive reader, and a secondary thread may have only 512 KB); nesting is limited by policy alone.
/// Strings without escapes become one slice; nothing in the loop uses Foundation. Values a `JSONSelection` leaves
/// out go through the same checks but are never built.
struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let duplicateKeys: JSONDuplicateKeys
    private var index = 0
    /// Reused by every string with escapes, so a document costs one scratch allocation, not one per string.
    private var scratch: [UInt8] = []
    /// The members of the objects being read, innermost last. An object's dictionary is built once its size is
    /// known: growing it while reading would rehash every key at each doubling.
    private var members: [Member] = []

    private struct Member {
        let key: String
        let value: JSONValue
        /// Where the key starts, to name it if it is a refused duplicate.
        let offset: Int
    }

    /// An array or object that is open.
    private struct Frame {
        let isObject: Bool
        /// Where its bracket is.
        let start: Int
        /// What of it to build; nil when it is only checked.
        let selection: JSONSelection?
        /// What of an array's elements to build; nil when they are only checked.
        let elementSelection: JSONSelection?
        /// An array's items so far.
        var items: [JSONValue] = []
        /// An object's first member in `members`.
        var base = 0
        /// The key of the object member whose value is being read.
        var key = ""
        var keyOffset = 0
        /// What of that member's value to build; nil when it is only checked.
        var memberSelection: JSONSelection?

        init(isObject: Bool, start: Int, base: Int = 0, selection: JSONSelection?) {
            self.isObject = isObject
            self.start = start
            self.base = base
            self.selection = selection
            self.elementSelection = selection?.elementSelection
        }
    }

    private init(_ bytes: UnsafeBufferPointer<UInt8>, duplicateKeys: JSONDuplicateKeys) {
        self.bytes = bytes
        self.duplicateKeys = duplicateKeys
    }

    static func read(_ bytes: UnsafeBufferPointer<UInt8>, duplicateKeys: JSONDuplicateKeys,
                     selection: JSONSelection) throws(JSONSyntaxError) -> JSONValue {
        var reader = JSONReader(bytes, duplicateKeys: duplicateKeys)
        // RFC 8259 lets a reader ignore a UTF-8 byte order mark, and a WordPress plugin file saved with one puts
        // it in front of everything the site sends. Foundation skips it too.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { reader.index = 3 }
        let start = reader.index
        guard reader.skipWhitespace() != nil else {
            throw JSONSyntaxError(bytes.count == start ? "empty input" : "no value: the input is only whitespace",
                                  offset: bytes.count)
        }
        let value = try reader.document(selection)
        if let extra = reader.skipWhitespace() {
            throw JSONSyntaxError("unexpected \(Self.describe(extra)) at byte \(reader.index) after the top-level value",
                                  offset: reader.index)
        }
        return value
    }

    // MARK: Structure

    /// The next byte that is not RFC 8259 whitespace (space, tab, line feed, carriage return), left unconsumed.
    @inline(__always)
    private mutating func skipWhitespace() -> UInt8? {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return byte }
            index += 1
        }
        return nil
    }

    /// The value starting at the next non-whitespace byte, which the caller has seen is there.
    private mutating func document(_ selection: JSONSelection) throws(JSONSyntaxError) -> JSONValue {
        var frames: [Frame] = []
        var expected: StaticString = "a value"
        // What of the next value to build; nil when it is only checked.
        var wanted: JSONSelection? = selection
        while true {
            // A value, or the opening of a container whose first value comes next.
            guard let byte = skipWhitespace() else { throw endOfInput(inside: frames.last) }
            var value: JSONValue
            switch byte {
            case UInt8(ascii: "{"):
                try checkDepth(frames.count + 1)
                var frame = Frame(isObject: true, start: index, base: members.count, selection: wanted)
                index += 1
                guard let first = skipWhitespace() else { throw endOfInput(inside: frame) }
                if first == UInt8(ascii: "}") {
                    index += 1
                    value = .object([:])
                } else {
                    try key(first, of: &frame, expected: "a string key or '}'")
                    wanted = frame.memberSelection
                    frames.append(frame)
                    expected = "a value"
                    continue
                }
            case UInt8(ascii: "["):
                try checkDepth(frames.count + 1)
                let frame = Frame(isObject: false, start: index, selection: wanted)
                index += 1
                guard let first = skipWhitespace() else { throw endOfInput(inside: frame) }
                if first == UInt8(ascii: "]") {
                    index += 1
                    value = .array([])
                } else {
                    wanted = frame.elementSelection
                    frames.append(frame)
                    expected = "a value or ']'"
                    continue
                }
            default:
                value = try scalar(byte, expected: expected, building: wanted != nil)
            }

            // The value goes into the innermost open container; if that closes, it is the next value, and so on out.
            while let top = frames.indices.last {
                guard let next = skipWhitespace() else { throw endOfInput(inside: frames[top]) }
                index += 1
                if frames[top].isObject {
                    if frames[top].memberSelection != nil {
                        members.append(Member(key: frames[top].key, value: value, offset: frames[top].keyOffset))
                    }
                    if next == UInt8(ascii: ",") {
                        guard let following = skipWhitespace() else { throw endOfInput(inside: frames[top]) }
                        try key(following, of: &frames[top], expected: "a string key")
                        wanted = frames[top].memberSelection
                        expected = "a value"
                        break
                    }
                    guard next == UInt8(ascii: "}") else { throw unexpected(next, at: index - 1, expected: "',' or '}'") }
                    let closed = frames.removeLast()
                    value = closed.selection == nil ? .null : .object(try object(from: closed.base))
                } else {
                    if frames[top].elementSelection != nil { frames[top].items.append(value) }
                    if next == UInt8(ascii: ",") {
                        wanted = frames[top].elementSelection
                        expected = "a value"
                        break
                    }
                    guard next == UInt8(ascii: "]") else { throw unexpected(next, at: index - 1, expected: "',' or ']'") }
                    value = .array(frames.removeLast().items)
                }
            }
            if frames.isEmpty { return value }
        }
    }

    /// The key starting at `byte` (`bytes[index]`) and the colon after it; sets what of its value to build.
    private mutating func key(_ byte: UInt8, of frame: inout Frame, expected: StaticString) throws(JSONSyntaxError) {
        guard byte == UInt8(ascii: "\"") else { throw unexpected(byte, expected: expected) }
        frame.keyOffset = index
        index += 1
        guard let selection = frame.selection else {
            _ = try scanString()
            frame.memberSelection = nil
            return try colon(of: frame)
        }
        switch selection.kind {
        case .everything:
            frame.key = try string()
            frame.memberSelection = selection
        case .elements:
            frame.key = try string()
            frame.memberSelection = selection.element
        case .members:
            // Most keys are plain ASCII and most are not wanted: those are compared as bytes and never built.
            let wanted = selection.members!
            let start = index
            let key: String
            switch try scanString() {
            case .ascii:
                let match = wanted.index(ofPlainKey: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]))
                frame.key = match.map { wanted.keys[$0] } ?? ""
                frame.memberSelection = match.map { wanted.selections[$0] }
                return try colon(of: frame)
            case .unescaped: key = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
            case .escaped: key = String(decoding: scratch, as: UTF8.self)
            }
            frame.key = key
            frame.memberSelection = wanted.index(of: key).map { wanted.selections[$0] }
        }
        try colon(of: frame)
    }

    /// The colon after a key.
    private mutating func colon(of frame: Frame) throws(JSONSyntaxError) {
        guard let colon = skipWhitespace() else { throw endOfInput(inside: frame) }
        guard colon == UInt8(ascii: ":") else { throw unexpected(colon, expected: "':'") }
        index += 1
    }

    /// The object whose members start at `members[base]`, which are then dropped from `members`.
    private mutating func object(from base: Int) throws(JSONSyntaxError) -> [String: JSONValue] {
        defer { members.removeSubrange(base...) }
        var fields = [String: JSONValue](minimumCapacity: members.count - base)
        for position in base..<members.count {
            let member = members[position]
            if let previous = fields.updateValue(member.value, forKey: member.key) {
                try duplicate(member.key, previous: previous, in: &fields, at: member.offset)
            }
        }
        return fields
    }

    /// Called after `updateValue` has already stored the new value.
    private func duplicate(_ key: String, previous: JSONValue, in fields: inout [String: JSONValue],
                           at offset: Int) throws(JSONSyntaxError) {
        switch duplicateKeys {
        case .lastWins:
            // `updateValue` keeps the first spelling of the key; a canonically equivalent but differently
            // spelled later key ("e\u{301}" after "é") should replace it along with its value.
            let value = fields.removeValue(forKey: key)
            fields[key] = value
        case .firstWins:
            fields[key] = previous
        case .reject:
            throw JSONSyntaxError("duplicate key \"\(key)\" at byte \(offset)", offset: offset)
        }
    }

    /// A string, number or literal starting at `byte`, which is `bytes[index]`. A string not being built is
    /// only checked, and comes back as an empty one.
    private mutating func scalar(_ byte: UInt8, expected: StaticString, building: Bool) throws(JSONSyntaxError)
        -> JSONValue {
        switch byte {
        case UInt8(ascii: "\""):
            index += 1
            if !building {
                _ = try scanString()
                return .string("")
            }
            return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try number())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            throw unexpected(byte, expected: expected)
        }
    }

    @inline(__always)
    private func checkDepth(_ depth: Int) throws(JSONSyntaxError) {
        if depth > JSONValue.maximumNestingDepth {
            throw JSONSyntaxError("nesting deeper than \(JSONValue.maximumNestingDepth) levels at byte \(index)",
                                  offset: index)
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        let start = index
        guard bytes.count - start >= count else { throw invalidLiteral(word, at: start) }
        let expected = word.utf8Start
        for offset in 0..<count where bytes[start + offset] != expected[offset] {
            throw invalidLiteral(word, at: start)
        }
        index += count
    }

    // MARK: Numbers

    /// Exact powers of ten: every one up to 10^22 is a Double, which is what makes the fast path below exact.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    private mutating func number() throws(JSONSyntaxError) -> Double {
        let start = index
        var position = index
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }

        // Up to 19 significant digits fit a UInt64. Past that the fast path cannot be exact; the slow path
        // reads the text itself.
        var significand: UInt64 = 0
        var significantDigits = 0
        var truncated = false
        var nonZero = false
        var decimalExponent = 0

        guard position < bytes.count, Self.isDigit(bytes[position]) else {
            throw invalidNumber(at: start, "no digits after '-'")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, Self.isDigit(bytes[position]) { throw invalidNumber(at: start, "leading zero") }
        } else {
            nonZero = true
            while position < bytes.count, Self.isDigit(bytes[position]) {
                if significantDigits < 19 {
                    significand = significand &* 10 &+ UInt64(bytes[position] &- UInt8(ascii: "0"))
                    significantDigits += 1
                } else {
                    truncated = true
                    decimalExponent += 1
                }
                position += 1
            }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, Self.isDigit(bytes[position]) else {
                throw invalidNumber(at: start, "no digits after '.'")
            }
            while position < bytes.count, Self.isDigit(bytes[position]) {
                let digit = bytes[position] &- UInt8(ascii: "0")
                if digit != 0 { nonZero = true }
                if significantDigits < 19 {
                    // Zeros before the first significant digit only move the exponent.
                    if significand != 0 || digit != 0 {
                        significand = significand &* 10 &+ UInt64(digit)
                        significantDigits += 1
                    }
                    decimalExponent -= 1
                } else {
                    truncated = true
                }
                position += 1
            }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var exponentNegative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < bytes.count, Self.isDigit(bytes[position]) else {
                throw invalidNumber(at: start, "no digits in the exponent")
            }
            var exponent = 0
            while position < bytes.count, Self.isDigit(bytes[position]) {
                // Saturates: an exponent this large is out of range (or zero) either way.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(bytes[position] &- UInt8(ascii: "0")) }
                position += 1
            }
            decimalExponent += exponentNegative ? -exponent : exponent
        }
        index = position

        let value: Double
        if !nonZero {
            value = negative ? -0.0 : 0.0
        } else if !truncated, significand <= 1 << 53, (-22...22).contains(decimalExponent) {
            // Clinger's fast path: both operands are exact and IEEE division and multiplication round correctly,
            // so this is the correctly rounded value `Double(String)` gives.
            let magnitude = decimalExponent < 0
                ? Double(significand) / Self.powersOfTen[-decimalExponent]
                : Double(significand) * Self.powersOfTen[decimalExponent]
            value = negative ? -magnitude : magnitude
        } else {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let parsed = Double(text) else { throw invalidNumber(at: start, "not a number") }
            value = parsed
        }
        if value.isInfinite { throw JSONSyntaxError("number at byte \(start) is too large for a Double", offset: start) }
        if value == 0, nonZero {
            throw JSONSyntaxError("number at byte \(start) is too small for a Double (it would round to zero)",
                                  offset: start)
        }
        return value
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    // MARK: Strings

    /// How a string read by `scanString()` was written, and so where its text is.
    private enum ScannedString: Equatable {
        /// ASCII, no escapes: its bytes are its text, and compare as bytes with any other ASCII text.
        case ascii
        /// Other UTF-8, no escapes: its bytes are its text.
        case unescaped
        /// With escapes: its decoded text is in `scratch`.
        case escaped
    }

    /// The string whose opening quote is just before `index`.
    private mutating func string() throws(JSONSyntaxError) -> String {
        let start = index
        switch try scanString() {
        case .ascii, .unescaped:
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
        case .escaped:
            return String(decoding: scratch, as: UTF8.self)
        }
    }

    /// Checks the string whose opening quote is just before `index` and moves past it. Only a string with
    /// escapes is decoded (into `scratch`); any other is left where it is, so skipping one builds nothing.
    private mutating func scanString() throws(JSONSyntaxError) -> ScannedString {
        let start = index
        var position = index
        var ascii = true
        while true {
            position = nextSpecialByte(from: position)
            guard position < bytes.count else { throw unterminatedString(quote: start - 1) }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                index = position + 1
                return ascii ? .ascii : .unescaped
            }
            if byte == UInt8(ascii: "\\") {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
                index = position
                try escapedString(quote: start - 1)
                return .escaped
            }
            if byte < 0x20 { throw controlCharacter(byte, at: position) }
            ascii = false
            position += try utf8Sequence(at: position)
        }
    }

    /// The rest of a string from the first backslash at `index`, decoded into `scratch`.
    private mutating func escapedString(quote: Int) throws(JSONSyntaxError) {
        var position = index
        while true {
            let runStart = position
            position = nextSpecialByte(from: position)
            if runStart < position {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            }
            guard position < bytes.count else { throw unterminatedString(quote: quote) }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                index = position + 1
                return
            case UInt8(ascii: "\\"):
                position = try escape(at: position, quote: quote)
            case 0..<0x20:
                throw controlCharacter(byte, at: position)
            default:
                let length = try utf8Sequence(at: position)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<position + length]))
                position += length
            }
        }
    }

    /// The position of the first quote, backslash, control character or non-ASCII byte at or after `position`,
    /// or at least `bytes.count` if there is none.
    @inline(__always)
    private func nextSpecialByte(from start: Int) -> Int {
        var position = start
        // Eight bytes at a time: most strings are plain ASCII, and most of their bytes need no look.
        while position + 8 <= bytes.count {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt64.self))
            let special = Self.specialBytes(word)
            if special != 0 { return position + special.trailingZeroBitCount >> 3 }
            position += 8
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { return position }
            position += 1
        }
        return position
    }

    /// The high bit set in each byte of `word` that is a quote, a backslash, a control character or non-ASCII.
    /// Borrows can also flag a byte above a flagged one, never below, so the lowest flag is always a true one.
    @inline(__always)
    private static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control | word) & (ones &* 0x80)
    }

    /// Appends the escape at `position` (a backslash) to `scratch`; returns the position after it.
    private mutating func escape(at position: Int, quote: Int) throws(JSONSyntaxError) -> Int {
        guard position + 1 < bytes.count else { throw unterminatedString(quote: quote) }
        let replacement: UInt8
        switch bytes[position + 1] {
        case UInt8(ascii: "\""): replacement = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): replacement = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): replacement = UInt8(ascii: "/")
        case UInt8(ascii: "b"): replacement = 0x08
        case UInt8(ascii: "f"): replacement = 0x0C
        case UInt8(ascii: "n"): replacement = 0x0A
        case UInt8(ascii: "r"): replacement = 0x0D
        case UInt8(ascii: "t"): replacement = 0x09
        case UInt8(ascii: "u"):
            return try unicodeEscape(at: position)
        case let other:
            let shown = (0x21..<0x7F).contains(other) ? "'\\\(Character(Unicode.Scalar(other)))'" : Self.describe(other)
            throw JSONSyntaxError("invalid escape \(shown) in string at byte \(position)", offset: position)
        }
        scratch.append(replacement)
        return position + 2
    }

    /// `\uXXXX`, or a surrogate pair `\uD8XX\uDCXX`, at `position`; returns the position after it.
    private mutating func unicodeEscape(at position: Int) throws(JSONSyntaxError) -> Int {
        let unit = try hexQuad(at: position)
        var scalarValue = UInt32(unit)
        var end = position + 6
        switch unit {
        case 0xD800...0xDBFF:
            guard end + 1 < bytes.count, bytes[end] == UInt8(ascii: "\\"), bytes[end + 1] == UInt8(ascii: "u")
            else { throw unpairedSurrogate(unit, at: position) }
            let low = try hexQuad(at: end)
            guard (0xDC00...0xDFFF).contains(low) else { throw unpairedSurrogate(unit, at: position) }
            scalarValue = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
            end += 6
        case 0xDC00...0xDFFF:
            throw unpairedSurrogate(unit, at: position)
        default:
            break
        }
        switch scalarValue {
        case 0..<0x80:
            scratch.append(UInt8(scalarValue))
        case 0x80..<0x800:
            scratch.append(0xC0 | UInt8(scalarValue >> 6))
            scratch.append(0x80 | UInt8(scalarValue & 0x3F))
        case 0x800..<0x10000:
            scratch.append(0xE0 | UInt8(scalarValue >> 12))
            scratch.append(0x80 | UInt8(scalarValue >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalarValue & 0x3F))
        default:
            scratch.append(0xF0 | UInt8(scalarValue >> 18))
            scratch.append(0x80 | UInt8(scalarValue >> 12 & 0x3F))
            scratch.append(0x80 | UInt8(scalarValue >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalarValue & 0x3F))
        }
        return end
    }

    /// The four hex digits of the `\u` escape at `position` (the backslash).
    private func hexQuad(at position: Int) throws(JSONSyntaxError) -> UInt16 {
        guard position + 6 <= bytes.count else {
            throw JSONSyntaxError("incomplete \\u escape in string at byte \(position)", offset: position)
        }
        var unit: UInt16 = 0
        for offset in 2..<6 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw JSONSyntaxError("invalid \\u escape in string at byte \(position): expected four hex digits",
                                      offset: position)
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    /// The length of the well-formed UTF-8 sequence starting with the non-ASCII byte at `position`
    /// (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
    @inline(__always)
    private func utf8Sequence(at position: Int) throws(JSONSyntaxError) -> Int {
        let lead = bytes[position]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw invalidUTF8(at: position)
        }
        guard position + length <= bytes.count else { throw invalidUTF8(at: position) }
        let second = bytes[position + 1]
        guard second >= low, second <= high else { throw invalidUTF8(at: position) }
        for offset in 2..<length where bytes[position + offset] & 0xC0 != 0x80 {
            throw invalidUTF8(at: position)
        }
        return length
    }

    // MARK: Errors

    /// A byte as a reader would want it named: printable ASCII quoted, anything else in hex.
    static func describe(_ byte: UInt8) -> String {
        if (0x20..<0x7F).contains(byte) { return "character '\(Character(Unicode.Scalar(byte)))'" }
        return "byte " + hex(byte)
    }

    static func hex(_ byte: UInt8) -> String {
        "0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
    }

    private func unexpected(_ byte: UInt8, expected: StaticString) -> JSONSyntaxError {
        unexpected(byte, at: index, expected: expected)
    }

    private func unexpected(_ byte: UInt8, at offset: Int, expected: StaticString) -> JSONSyntaxError {
        JSONSyntaxError("unexpected \(Self.describe(byte)) at byte \(offset) (expected \(expected))", offset: offset)
    }

    private func endOfInput(inside frame: Frame?) -> JSONSyntaxError {
        guard let frame else { return JSONSyntaxError("empty input", offset: bytes.count) }
        let container = frame.isObject ? "an object" : "an array"
        return JSONSyntaxError("end of input inside \(container) opened at byte \(frame.start)", offset: bytes.count)
    }

    private func invalidLiteral(_ word: StaticString, at offset: Int) -> JSONSyntaxError {
        JSONSyntaxError("invalid literal at byte \(offset) (expected '\(word)')", offset: offset)
    }

    private func invalidNumber(at offset: Int, _ reason: String) -> JSONSyntaxError {
        JSONSyntaxError("invalid number at byte \(offset): \(reason)", offset: offset)
    }

    private func unterminatedString(quote: Int) -> JSONSyntaxError {
        JSONSyntaxError("unterminated string starting at byte \(quote)", offset: quote)
    }

    private func controlCharacter(_ byte: UInt8, at offset: Int) -> JSONSyntaxError {
        JSONSyntaxError("unescaped control character \(Self.hex(byte)) in string at byte \(offset)",
                        offset: offset)
    }

    private func unpairedSurrogate(_ unit: UInt16, at offset: Int) -> JSONSyntaxError {
        let kind = unit < 0xDC00 ? "high" : "low"
        let hex = String(unit, radix: 16, uppercase: true)
        return JSONSyntaxError("unpaired \(kind) surrogate \\u\(hex) in string at byte \(offset)", offset: offset)
    }

    private func invalidUTF8(at offset: Int) -> JSONSyntaxError {
        JSONSyntaxError("invalid UTF-8 in string at byte \(offset)", offset: offset)
    }
}
