import Foundation
import RegistrarCore
import Testing

/// The byte-level reader behind `JSONValue.parse`: RFC 8259 read strictly, checked case by case and against
/// Foundation's `JSONDecoder`, which it replaced on the webhook path.
@Suite(.timeLimit(.minutes(2)))
struct JSONReaderTests {
    static func read(_ text: String, duplicateKeys: JSONDuplicateKeys = .lastWins) throws(JSONSyntaxError) -> JSONValue {
        try JSONValue.parse(bytes: Array(text.utf8), duplicateKeys: duplicateKeys)
    }

    static func problem(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JSONValue.parse(bytes: bytes)
            return nil
        } catch {
            return error.message
        }
    }

    static func problem(_ text: String) -> String? { problem(Array(text.utf8)) }

    /// What the old path gave: `nil` where it refused.
    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    // MARK: Grammar, accepted

    @Test(arguments: [
        ("null", JSONValue.null), ("true", .bool(true)), ("false", .bool(false)),
        ("0", .number(0)), ("-0", .number(-0.0)), ("7", .number(7)), ("-12", .number(-12)), ("1.5", .number(1.5)),
        ("1e3", .number(1000)), ("1E3", .number(1000)), ("1e+3", .number(1000)), ("25e-1", .number(2.5)),
        ("0.0", .number(0)), ("0e0", .number(0)), ("-0.5E-0", .number(-0.5)),
        ("\"\"", .string("")), ("\"abc\"", .string("abc")), ("\"é✓😀\"", .string("é✓😀")),
        ("[]", .array([])), ("{}", .object([:])), ("[[]]", .array([.array([])])),
        ("[1,\"a\",null,true,{}]", .array([.number(1), .string("a"), .null, .bool(true), .object([:])])),
        ("{\"a\":{\"b\":[false]}}", .object(["a": .object(["b": .array([.bool(false)])])])),
        (" \t\r\n[ 1 , 2 ]\n\r\t ", .array([.number(1), .number(2)])),
        ("{ \"a\" : 1 , \"b\" : 2 }", .object(["a": .number(1), "b": .number(2)])),
        ("{\"\":0}", .object(["": .number(0)])),
        ("\u{FEFF}1", .number(1)), ("\u{FEFF} [\"\u{FEFF}\"]", .array([.string("\u{FEFF}")])),
    ])
    func accepts(text: String, expected: JSONValue) throws {
        let value = try Self.read(text)
        #expect(value == expected)
        // == says -0 == 0; the sign of zero must survive too.
        if case .number(let number) = value, case .number(let wanted) = expected {
            #expect(number.sign == wanted.sign)
        }
    }

    // MARK: Grammar, refused, and what each refusal says

    @Test(arguments: [
        ("", "empty input"),
        (" \n\t\r", "no value: the input is only whitespace"),
        ("x", "unexpected character 'x' at byte 0 (expected a value)"),
        ("True", "unexpected character 'T' at byte 0 (expected a value)"),
        ("'a'", "unexpected character ''' at byte 0 (expected a value)"),
        ("[1,]", "unexpected character ']' at byte 3 (expected a value)"),
        ("[,1]", "unexpected character ',' at byte 1 (expected a value or ']')"),
        ("[1,,2]", "unexpected character ',' at byte 3 (expected a value)"),
        ("[1 2]", "unexpected character '2' at byte 3 (expected ',' or ']')"),
        ("[1}", "unexpected character '}' at byte 2 (expected ',' or ']')"),
        ("{\"a\":1,}", "unexpected character '}' at byte 7 (expected a string key)"),
        ("{1:2}", "unexpected character '1' at byte 1 (expected a string key or '}')"),
        ("{a:1}", "unexpected character 'a' at byte 1 (expected a string key or '}')"),
        ("{\"a\" 1}", "unexpected character '1' at byte 5 (expected ':')"),
        ("{\"a\":}", "unexpected character '}' at byte 5 (expected a value)"),
        ("{\"a\":1 \"b\":2}", "unexpected character '\"' at byte 7 (expected ',' or '}')"),
        ("{\"a\":1]", "unexpected character ']' at byte 6 (expected ',' or '}')"),
        ("[1]x", "unexpected character 'x' at byte 3 after the top-level value"),
        ("1 2", "unexpected character '2' at byte 2 after the top-level value"),
        ("{}{}", "unexpected character '{' at byte 2 after the top-level value"),
        ("/*c*/1", "unexpected character '/' at byte 0 (expected a value)"),
        ("[", "end of input inside an array opened at byte 0"),
        ("[1", "end of input inside an array opened at byte 0"),
        ("[1,", "end of input inside an array opened at byte 0"),
        ("[[1]", "end of input inside an array opened at byte 0"),
        ("{", "end of input inside an object opened at byte 0"),
        ("{\"a\"", "end of input inside an object opened at byte 0"),
        ("{\"a\":", "end of input inside an object opened at byte 0"),
        ("{\"a\":1", "end of input inside an object opened at byte 0"),
        ("{\"a\":{", "end of input inside an object opened at byte 5"),
        ("tru", "invalid literal at byte 0 (expected 'true')"),
        ("[trUe]", "invalid literal at byte 1 (expected 'true')"),
        ("fals", "invalid literal at byte 0 (expected 'false')"),
        ("nul", "invalid literal at byte 0 (expected 'null')"),
        ("nulL", "invalid literal at byte 0 (expected 'null')"),
        ("nulll", "unexpected character 'l' at byte 4 after the top-level value"),
        ("NaN", "unexpected character 'N' at byte 0 (expected a value)"),
        ("Infinity", "unexpected character 'I' at byte 0 (expected a value)"),
        ("-Infinity", "invalid number at byte 0: no digits after '-'"),
        ("01", "invalid number at byte 0: leading zero"),
        ("-01", "invalid number at byte 0: leading zero"),
        ("[00]", "invalid number at byte 1: leading zero"),
        ("-", "invalid number at byte 0: no digits after '-'"),
        ("--1", "invalid number at byte 0: no digits after '-'"),
        ("1.", "invalid number at byte 0: no digits after '.'"),
        ("1.e5", "invalid number at byte 0: no digits after '.'"),
        ("1e", "invalid number at byte 0: no digits in the exponent"),
        ("1e+", "invalid number at byte 0: no digits in the exponent"),
        ("1E-x", "invalid number at byte 0: no digits in the exponent"),
        (".5", "unexpected character '.' at byte 0 (expected a value)"),
        ("+1", "unexpected character '+' at byte 0 (expected a value)"),
        ("0x10", "unexpected character 'x' at byte 1 after the top-level value"),
        ("1.5.2", "unexpected character '.' at byte 3 after the top-level value"),
        ("1e400", "number at byte 0 is too large for a Double"),
        ("[-1.8e308]", "number at byte 1 is too large for a Double"),
        ("1e-400", "number at byte 0 is too small for a Double (it would round to zero)"),
        ("2e-324", "number at byte 0 is too small for a Double (it would round to zero)"),
        ("\"abc", "unterminated string starting at byte 0"),
        ("[\"a\\", "unterminated string starting at byte 1"),
        ("[\"a\\\"]", "unterminated string starting at byte 1"),
        ("\"a\tb\"", "unescaped control character 0x09 in string at byte 2"),
        ("\"a\nb\"", "unescaped control character 0x0A in string at byte 2"),
        ("\"\\n\u{1F}\"", "unescaped control character 0x1F in string at byte 3"),
        ("\"\\x\"", "invalid escape '\\x' in string at byte 1"),
        ("\"\\'\"", "invalid escape '\\'' in string at byte 1"),
        ("\"\\ \"", "invalid escape character ' ' in string at byte 1"),
        ("\"\\U0041\"", "invalid escape '\\U' in string at byte 1"),
        ("\"\\u12G4\"", "invalid \\u escape in string at byte 1: expected four hex digits"),
        ("\"\\u12\"]", "invalid \\u escape in string at byte 1: expected four hex digits"),
        ("\"\\u12", "incomplete \\u escape in string at byte 1"),
        ("\"\\ud800\"", "unpaired high surrogate \\uD800 in string at byte 1"),
        ("\"\\uDBFF\"", "unpaired high surrogate \\uDBFF in string at byte 1"),
        ("\"\\udc00\"", "unpaired low surrogate \\uDC00 in string at byte 1"),
        ("\"a\\uDFFF\\ud800\"", "unpaired low surrogate \\uDFFF in string at byte 2"),
        ("\"\\ud800\\u0041\"", "unpaired high surrogate \\uD800 in string at byte 1"),
        ("\"\\ud800\\ud800\"", "unpaired high surrogate \\uD800 in string at byte 1"),
        ("\"\\ud800x\"", "unpaired high surrogate \\uD800 in string at byte 1"),
        ("\"\\ud800\\n\"", "unpaired high surrogate \\uD800 in string at byte 1"),
        ("\"\\ud800\\udc0\"", "invalid \\u escape in string at byte 7: expected four hex digits"),
        ("\"\\ud800", "unpaired high surrogate \\uD800 in string at byte 1"),
        ("{\"a\u{0}\":1}", "unescaped control character 0x00 in string at byte 3"),
        ("\u{FEFF}", "empty input"),
        ("\u{FEFF} ", "no value: the input is only whitespace"),
        (" \u{FEFF}1", "unexpected byte 0xEF at byte 1 (expected a value)"),
        ("\u{FEFF}\u{FEFF}1", "unexpected byte 0xEF at byte 3 (expected a value)"),
        ("\u{FEFF}[1,]", "unexpected character ']' at byte 6 (expected a value)"),
        ("\u{0B}1", "unexpected byte 0x0B at byte 0 (expected a value)"),
        ("\u{0C}1", "unexpected byte 0x0C at byte 0 (expected a value)"),
        ("\u{A0}1", "unexpected byte 0xC2 at byte 0 (expected a value)"),
        ("[1]\u{0}", "unexpected byte 0x00 at byte 3 after the top-level value"),
        ("é", "unexpected byte 0xC3 at byte 0 (expected a value)"),
    ])
    func refuses(text: String, message: String) {
        #expect(Self.problem(text) == message)
    }

    @Test func errorCarriesTheOffset() {
        do {
            _ = try Self.read("{\"a\": [1, 2, x]}")
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 13)
            #expect(error.message == "unexpected character 'x' at byte 13 (expected a value)")
            #expect("\(error)" == error.message)
        }
    }

    // MARK: Strings

    @Test(arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        (#""\u0000\u001f\u0020\u007F""#, "\u{0}\u{1F} \u{7F}"),
        (#""\u00e9\u00E9\u2014\uFFFF\uFEFF""#, "éé—\u{FFFF}\u{FEFF}"),
        (#""\ud83d\ude00\uD834\uDD1E\udbff\udfff\ud800\udc00""#, "😀𝄞\u{10FFFF}\u{10000}"),
        (#""a\nb""#, "a\nb"),
        (#""before \u0041 after""#, "before A after"),
        ("\"raw é ✓ 😀 \u{7F} \u{2028} \u{10FFFF}\"", "raw é ✓ 😀 \u{7F} \u{2028} \u{10FFFF}"),
        ("\"e\u{301} then \\u00e9\"", "e\u{301} then é"),
        (#""\\\\\\""#, "\\\\\\"),
        (#""\/\/""#, "//"),
    ])
    func escapes(text: String, expected: String) throws {
        let value = try Self.read(text)
        guard case .string(let string) = value else { Issue.record("\(value)"); return }
        // Byte for byte: String == would let a canonically equivalent but different spelling through.
        #expect(Array(string.utf8) == Array(expected.utf8))
    }

    @Test func everyBMPEscapeReadsAsItsScalar() throws {
        for unit in UInt32(0)...0xFFFF where !(0xD800...0xDFFF).contains(unit) {
            let hex = String(unit, radix: 16)
            let text = "\"\\u" + String(repeating: "0", count: 4 - hex.count) + hex + "\""
            let value = try Self.read(text)
            #expect(value == .string(String(Unicode.Scalar(unit)!)), "\(text)")
        }
    }

    @Test func everySurrogatePairReadsAsItsScalar() throws {
        for high in UInt32(0xD800)...0xDBFF {
            for low in stride(from: UInt32(0xDC00), through: 0xDFFF, by: high % 16 == 0 ? 1 : 0x155) {
                let text = "\"\\u\(String(high, radix: 16))\\u\(String(low, radix: 16, uppercase: true))\""
                let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
                #expect(try Self.read(text) == .string(String(scalar)), "\(text)")
            }
        }
    }

    @Test(arguments: [
        ([0x22, 0xFF, 0x22], 1), ([0x22, 0x80, 0x22], 1), ([0x22, 0x61, 0xBF, 0x22], 2),
        ([0x22, 0xC0, 0x80, 0x22], 1),               // overlong NUL
        ([0x22, 0xC1, 0xBF, 0x22], 1),               // overlong DEL
        ([0x22, 0xE0, 0x80, 0x80, 0x22], 1),         // overlong three-byte
        ([0x22, 0xE0, 0x9F, 0xBF, 0x22], 1),
        ([0x22, 0xF0, 0x80, 0x80, 0x80, 0x22], 1),   // overlong four-byte
        ([0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22], 1),
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),         // encoded surrogate U+D800
        ([0x22, 0xED, 0xBF, 0xBF, 0x22], 1),         // encoded surrogate U+DFFF
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),   // U+110000
        ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1), ([0x22, 0xF8, 0x22], 1), ([0x22, 0xFE, 0x22], 1),
        ([0x22, 0xC3, 0x22], 1),                     // truncated before the closing quote
        ([0x22, 0xE2, 0x9C, 0x22], 1), ([0x22, 0xF0, 0x9F, 0x98, 0x22], 1),
        ([0x22, 0xC3], 1), ([0x22, 0xE2, 0x9C], 1),  // truncated by the end of input
        ([0x22, 0xC3, 0xC3, 0xA9, 0x22], 1),
        ([0x22, 0x5C, 0x6E, 0xFF, 0x22], 3),         // after an escape, on the slow path
        ([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D], 2),
    ] as [([UInt8], Int)])
    func invalidUTF8IsRefused(bytes: [UInt8], offset: Int) {
        #expect(Self.problem(bytes) == "invalid UTF-8 in string at byte \(offset)")
        #expect(Self.foundation(bytes) == nil)
    }

    @Test(arguments: [
        [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF],
        [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF3, 0xBF, 0xBF, 0xBF],
    ] as [[UInt8]])
    func validUTF8BoundariesAreRead(sequence: [UInt8]) throws {
        let value = try JSONValue.parse(bytes: [0x22] + sequence + [0x22])
        #expect(value == .string(String(decoding: sequence, as: UTF8.self)))
        let escaped = try JSONValue.parse(bytes: [0x22, 0x5C, 0x74] + sequence + [0x22])
        #expect(escaped == .string("\t" + String(decoding: sequence, as: UTF8.self)))
    }

    /// RFC 8259 requires UTF-8 between systems; Foundation also reads UTF-16 and UTF-32 (this is "[1]" in
    /// UTF-16LE). The reader refuses it at the first NUL.
    @Test func otherUnicodeEncodingsAreRefused() {
        let utf16 = Array("[1]".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(Self.foundation(utf16) == .array([.number(1)]))
        #expect(Self.problem(utf16) == "unexpected byte 0x00 at byte 1 (expected a value or ']')")
        #expect(Self.problem([0xFF, 0xFE] + utf16) == "unexpected byte 0xFF at byte 0 (expected a value)")
    }

    // MARK: Nesting

    @Test func nestingUpToTheLimitIsRead() throws {
        let limit = JSONValue.maximumNestingDepth
        #expect(limit == 512)
        let arrays = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        var expected = JSONValue.array([])
        for _ in 1..<limit { expected = .array([expected]) }
        #expect(try Self.read(arrays) == expected)
        let objects = String(repeating: "{\"a\":", count: limit - 1) + "{}" + String(repeating: "}", count: limit - 1)
        var nestedObjects = JSONValue.object([:])
        for _ in 1..<limit { nestedObjects = .object(["a": nestedObjects]) }
        #expect(try Self.read(objects) == nestedObjects)
        // Foundation draws the line in the same place.
        #expect(Self.foundation(Array(arrays.utf8)) != nil)
    }

    @Test func nestingPastTheLimitIsRefusedNotAStackOverflow() {
        let limit = JSONValue.maximumNestingDepth
        let arrays = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(Self.problem(arrays) == "nesting deeper than 512 levels at byte 512")
        #expect(Self.foundation(Array(arrays.utf8)) == nil)
        let mixed = String(repeating: "{\"a\":[", count: 300)
        #expect(Self.problem(mixed) == "nesting deeper than 512 levels at byte \(256 * 6)")
        // Far deeper than any stack would take, unterminated: the limit, not the end of input, is reported.
        #expect(Self.problem(String(repeating: "[", count: 1_000_000)) == "nesting deeper than 512 levels at byte 512")
    }

    /// The reader keeps its own stack of open containers, so reading at the limit, and refusing far past it,
    /// fits in a small thread stack even in a debug build (a recursive reader needs kilobytes per level there).
    @Test func readingNeedsLittleStack() {
        let limit = JSONValue.maximumNestingDepth
        let documents: [[UInt8]] = [
            Array((String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).utf8),
            Array((String(repeating: "{\"a\":[", count: limit / 2) + String(repeating: "]}", count: limit / 2)).utf8),
            Array(String(repeating: "[", count: 1_000_000).utf8),
        ]
        final class Outcome: @unchecked Sendable {
            var read: [Bool] = []
            let done = DispatchSemaphore(value: 0)
        }
        let outcome = Outcome()
        let thread = Thread {
            for document in documents { outcome.read.append((try? JSONValue.parse(bytes: document)) != nil) }
            outcome.done.signal()
        }
        thread.stackSize = 128 * 1024
        thread.start()
        outcome.done.wait()
        #expect(outcome.read == [true, true, false])
    }

    // MARK: Duplicate keys

    @Test func duplicateKeysFollowThePolicy() throws {
        let text = "{\"a\":1,\"b\":2,\"a\":3}"
        #expect(try Self.read(text) == .object(["a": .number(3), "b": .number(2)]))
        #expect(try Self.read(text, duplicateKeys: .lastWins) == .object(["a": .number(3), "b": .number(2)]))
        #expect(try Self.read(text, duplicateKeys: .firstWins) == .object(["a": .number(1), "b": .number(2)]))
        #expect(Self.foundation(Array(text.utf8)) == .object(["a": .number(1), "b": .number(2)]))
        do {
            _ = try Self.read(text, duplicateKeys: .reject)
            Issue.record("duplicate accepted")
        } catch {
            #expect(error.message == "duplicate key \"a\" at byte 13")
            #expect(error.offset == 13)
        }
        #expect(try Self.read("{\"a\":1,\"b\":2}", duplicateKeys: .reject) == .object(["a": .number(1), "b": .number(2)]))
    }

    /// "é" and "e\u{301}" are one Dictionary key (String == is canonical equivalence); the winner's spelling is
    /// kept along with its value, so writing the object back shows what was last (or first) sent.
    @Test func canonicallyEquivalentKeysAreDuplicates() throws {
        let text = "{\"\u{E9}\":1,\"e\u{301}\":2}"
        guard case .object(let last) = try Self.read(text), case .object(let first) = try Self.read(text, duplicateKeys: .firstWins)
        else { Issue.record(); return }
        #expect(last.count == 1 && first.count == 1)
        #expect(Array(last.keys.first!.utf8) == Array("e\u{301}".utf8) && last.values.first == .number(2))
        #expect(Array(first.keys.first!.utf8) == Array("\u{E9}".utf8) && first.values.first == .number(1))
        #expect(Self.problem("{\"\u{E9}\":1,\"e\u{301}\":2}") == nil)
    }

    // MARK: Numbers

    @Test(arguments: [
        "0", "-0", "1", "-1", "0.1", "0.2", "0.3", "1.5", "-2.5", "3.141592653589793", "2.718281828459045",
        "9007199254740991", "9007199254740992", "9007199254740993", "9007199254740995", "18446744073709551615",
        "18446744073709551616", "99999999999999999999", "123456789012345678901234567890", "1e22", "1e23", "4.35e22",
        "1.7976931348623157e308", "1.7976931348623158e308", "2.2250738585072014e-308", "2.2250738585072011e-308",
        "4.9406564584124654e-324", "5e-324", "3e-324", "2.5e-324", "1e-320", "0.000001", "1e-7", "100e-2",
        "0.30000000000000004", "0.1000000000000000055511151231257827", "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124", "7.0e-10", "123.456e3", "0.0000000000000000000000123",
        "1234567890123456789", "12345678901234567890", "1234567890123456789.5", "0.1234567890123456789123",
        "9007199254740993.0", "900719925474099.3e1", "0e-400", "-0e400", "0.000e99999", "1e-0", "1E+0",
        "8.98846567431158e307", "1.0000000000000002", "1" + String(repeating: "0", count: 308),
        "0." + String(repeating: "0", count: 320) + "1", String(repeating: "9", count: 400) + "e-400",
    ])
    func numbersReadAsDoubleFromString(text: String) throws {
        let expected = try #require(Double(text))
        let value = try Self.read(text)
        guard case .number(let number) = value else { Issue.record("\(value)"); return }
        #expect(number.bitPattern == expected.bitPattern, "\(text): \(number) != \(expected)")
        #expect(Self.foundation(Array(text.utf8)) == value)
    }

    /// Numbers spelled from the grammar at random: long and short significands, zeros in every place,
    /// exponents around the ends of the Double range.
    @Test func randomNumbersMatchDoubleFromString() {
        Fuzz.run("json.number", count: 20000) { c in
            let text = Self.randomNumber(&c.rng)
            c.input(text)
            let expected = Double(text)!
            let read: JSONValue?
            do throws(JSONSyntaxError) {
                read = try Self.read(text)
            } catch {
                read = nil
                c.expect(expected.isInfinite || expected == 0, "\(text) refused (\(error.message)), Double gives \(expected)")
            }
            if case .number(let number)? = read {
                c.expect(number.bitPattern == expected.bitPattern, "\(text) read as \(number), Double gives \(expected)")
            }
            let foundation = Self.foundation(Array(text.utf8))
            if read != nil, foundation == nil, Self.foundationMistakesForUnderflow(Array(text.utf8)) { return }
            c.expect(read == foundation,
                     "\(text): reader \(read.map { "\($0)" } ?? "refuses"), JSONDecoder \(foundation.map { "\($0)" } ?? "refuses")")
        }
    }

    /// A bug in Foundation's JSONDecoder (swift-foundation `JSONDecoderImpl.isTrueZero`): a number that reads as
    /// zero is refused as an underflow unless its digits are all zeros up to the "e". The check scans four bytes
    /// at a time and then the last one to three bytes backwards, so in those it meets a non-zero exponent digit
    /// before the "e": "0e5", "0E7", "0.00e1" and "-0.00e5" are refused while "0e10", "0.0e1" and "0.0000e1"
    /// are read. RFC 8259 allows them all, and the reader reads them as zero. This is that check, bug included.
    static func foundationMistakesForUnderflow(_ number: [UInt8]) -> Bool {
        guard Double(String(decoding: number, as: UTF8.self)) == 0 else { return false }
        func verdict(_ byte: UInt8) -> Bool? {
            switch byte {
            case UInt8(ascii: "1")...UInt8(ascii: "9"): false
            case UInt8(ascii: "e"), UInt8(ascii: "E"): true
            default: nil
            }
        }
        var start = 0
        while number.count - start >= 4 {
            for position in start..<start + 4 { if let isZero = verdict(number[position]) { return !isZero } }
            start += 4
        }
        for position in stride(from: number.count - 1, through: start, by: -1) {
            if let isZero = verdict(number[position]) { return !isZero }
        }
        return false
    }

    /// Whether a document (one the reader accepts) holds a number Foundation mistakes for an underflow.
    static func holdsNumberFoundationMistakesForUnderflow(_ bytes: [UInt8]) -> Bool {
        var inString = false, escaped = false
        var number: [UInt8] = []
        for byte in bytes + [0x20] {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            if byte == UInt8(ascii: "\"") { inString = true }
            if Array("-+.0123456789eE".utf8).contains(byte) {
                number.append(byte)
            } else if !number.isEmpty {
                if foundationMistakesForUnderflow(number) { return true }
                number = []
            }
        }
        return false
    }

    @Test func foundationsZeroBugIsModelled() throws {
        for text in ["0e5", "0E7", "0e1", "0.00e1", "0.000e1", "-0.00e5", "0.00e+1", "0.00e-1", "0.00e10"] {
            #expect(Self.foundation(Array(text.utf8)) == nil, "\(text)")
            #expect(Self.foundationMistakesForUnderflow(Array(text.utf8)), "\(text)")
            #expect(try Self.read(text) == .number(0), "\(text)")
        }
        for text in ["0e10", "0e01", "0.0e1", "0.0000e1", "0.000e12", "-0e5", "0e+5", "0e0", "0.00e0", "0"] {
            #expect(Self.foundation(Array(text.utf8)) == .number(0), "\(text)")
            #expect(!Self.foundationMistakesForUnderflow(Array(text.utf8)), "\(text)")
        }
        #expect(Self.holdsNumberFoundationMistakesForUnderflow(Array("{\"0e5\":[1,0e5]}".utf8)))
        #expect(!Self.holdsNumberFoundationMistakesForUnderflow(Array("{\"0e5\":[1,0e10,\"\\\"0e5\"]}".utf8)))
    }

    static func randomNumber(_ rng: inout SplitMix64) -> String {
        func digits(_ count: Int, zeros: Bool) -> String {
            String((0..<count).map { _ in
                zeros && rng.chance(1, in: 3) ? "0" : Character(String(rng.below(10)))
            })
        }
        var text = rng.chance(1, in: 3) ? "-" : ""
        let integer = rng.chance(1, in: 3) ? "0" : String(1 + rng.below(9)) + digits(rng.length(max: 30), zeros: true)
        text += integer
        if rng.chance(1, in: 2) { text += "." + digits(1 + rng.length(max: 30), zeros: rng.chance(1, in: 2)) }
        if rng.chance(1, in: 2) {
            text += rng.pick(["e", "E"]) + rng.pick(["", "+", "-"])
            let exponent = rng.chance(1, in: 2) ? rng.below(30) : rng.below(420)
            text += (rng.chance(1, in: 10) ? "00" : "") + String(exponent)
        }
        return text
    }

    // MARK: Input forms

    @Test func everyCollectionOfBytesIsRead() throws {
        let text = "{\"a\":[1,\"\\u00e9\"]}"
        let expected = JSONValue.object(["a": .array([.number(1), .string("é")])])
        #expect(try JSONValue.parse(bytes: Array(text.utf8)) == expected)
        #expect(try JSONValue.parse(bytes: text.utf8) == expected)
        #expect(try JSONValue.parse(bytes: Data(text.utf8)) == expected)
        #expect(try JSONValue.parse(bytes: Array(("  " + text + "  ").utf8)[2...]) == expected)
        // Not contiguous: read through a copy.
        #expect(try JSONValue.parse(bytes: text.utf8.lazy.map { $0 }) == expected)
        let raw = try Array(text.utf8).withUnsafeBytes { raw throws(JSONSyntaxError) in try JSONValue.parse(bytes: raw) }
        #expect(raw == expected)
        #expect(JSONValue.parse(text) == expected)
        #expect(JSONValue.parse("{") == nil)
    }

    @Test func webhookBodyErrorsCarryTheReaderMessage() {
        func problem(_ body: [UInt8]) -> String? {
            do {
                _ = try WooPayload.parse(topic: "order.updated", body: body)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(problem(Array("{\"id\": 5,".utf8)) == "body is not JSON: end of input inside an object opened at byte 0")
        #expect(problem([]) == "body is not JSON: empty input")
        #expect(problem(Array("webhook_id=42".utf8)) == "body is not JSON: unexpected character 'w' at byte 0 (expected a value)")
        #expect(problem([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]) == "body is not JSON: invalid UTF-8 in string at byte 2")
    }

    // MARK: The fixtures

    @Test func fixturesReadAsJSONDecoderReadsThem() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: WooFixtures.directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        #expect(names.count >= 10)
        for name in names {
            let bytes = try WooFixtures.bytes(name)
            let expected = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            #expect(try JSONValue.parse(bytes: bytes) == expected, "\(name)")
            #expect(try JSONValue.parse(bytes: bytes, duplicateKeys: .reject) == expected, "\(name) has duplicate keys")
            #expect(try JSONValue.parse(bytes: JSONValue.parse(bytes: bytes).jsonBytes) == expected, "\(name)")
        }
    }

    // MARK: Against JSONDecoder

    static let seeds: [[UInt8]] = {
        let fixtures = ((try? FileManager.default.contentsOfDirectory(atPath: WooFixtures.directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().compactMap { try? WooFixtures.bytes($0) }
        let small = [
            "{\"a\":[1,2.5e3,-0,\"x\\u00e9\\ud83d\\ude00\"],\"b\":{\"c\":null,\"d\":true,\"e\":false}}", "[]", "{}", "0",
            "\"\\\\\\\"\\/\\b\\f\\n\\r\\t\"", "[1e308,-1e-300,0.5,123456789012345678]", "[[[[{}]]]]",
            "{\"id\":727,\"line_items\":[{\"id\":1,\"quantity\":\"2\"}]}", " [ \"é\" , \"\u{10FFFF}\" ] ",
        ].map { Array($0.utf8) }
        return fixtures + small
    }()

    /// Foundation also reads UTF-16 and UTF-32, which it detects by byte order mark or by NUL bytes among the
    /// first four; RFC 8259 JSON exchanged between systems is UTF-8, and the reader refuses the others. Such
    /// inputs are left out of the comparison. (Both skip a UTF-8 byte order mark.)
    static func foundationReadsAnotherEncoding(_ bytes: [UInt8]) -> Bool {
        bytes.prefix(4).contains(0) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE])
    }

    /// The input with the trailing commas the reader refused removed, while that is what it refuses.
    /// JSONDecoder accepts `[1,]` and `{"a":1,}`; RFC 8259 does not, and neither does the reader.
    static func withoutTrailingCommas(_ input: [UInt8]) -> [UInt8]? {
        var bytes = input
        var removed = false
        for _ in 0..<64 {
            do {
                _ = try JSONValue.parse(bytes: bytes)
                return removed ? bytes : nil
            } catch {
                let closing = error.offset < bytes.count ? bytes[error.offset] : 0
                guard (closing == UInt8(ascii: "]") && error.message.hasSuffix("(expected a value)"))
                   || (closing == UInt8(ascii: "}") && error.message.hasSuffix("(expected a string key)")) else { return nil }
                var comma = error.offset - 1
                while comma >= 0, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[comma]) { comma -= 1 }
                guard comma >= 0, bytes[comma] == UInt8(ascii: ",") else { return nil }
                bytes.remove(at: comma)
                removed = true
            }
        }
        return nil
    }

    /// (b) Accepts exactly what JSONDecoder accepts and reads the same value, but for the documented differences:
    /// the encodings above, trailing commas (which Foundation accepts), zeros Foundation refuses (its bug, above),
    /// and duplicate keys (Foundation keeps the first; the reader keeps the last by default, so the comparison
    /// uses `.firstWins`).
    @Test func acceptsWhatJSONDecoderAccepts() {
        var bothAccepted = 0, bothRefused = 0, trailingCommas = 0, duplicates = 0, zeroBug = 0
        Fuzz.run("json.reader-vs-foundation", count: 12000) { c in
            var bytes: [UInt8]
            switch c.rng.below(8) {
            case 0:
                bytes = FuzzMutator.randomBytes(&c.rng, max: 256, alphabet: FuzzMutator.jsonAlphabet)
            case 1:
                // Valid, with whitespace (or, inside strings, spaces and raw controls) anywhere.
                bytes = RandomJSON.value(&c.rng).jsonBytes
                for _ in 0..<c.rng.below(6) {
                    bytes.insert(c.rng.pick([0x20, 0x09, 0x0A, 0x0D]), at: c.rng.below(bytes.count + 1))
                }
            case 2:
                // A trailing comma before some closing bracket.
                bytes = RandomJSON.value(&c.rng).jsonBytes
                let closings = bytes.indices.filter { bytes[$0] == UInt8(ascii: "]") || bytes[$0] == UInt8(ascii: "}") }
                if !closings.isEmpty { bytes.insert(UInt8(ascii: ","), at: c.rng.pick(closings)) }
            case 3, 4:
                bytes = c.rng.chance(1, in: 2) ? RandomJSON.value(&c.rng).jsonBytes : c.rng.pick(Self.seeds)
                FuzzMutator.mutateOnce(&bytes, &c.rng, others: Self.seeds)
            case 5:
                bytes = Array(Self.randomNumber(&c.rng).utf8)
                if c.rng.chance(1, in: 4) { bytes = [0xEF, 0xBB, 0xBF] + bytes }
            default:
                bytes = FuzzMutator.mutate(c.rng.pick(Self.seeds), &c.rng, others: Self.seeds)
            }
            c.input(bytes)
            guard !Self.foundationReadsAnotherEncoding(bytes) else { return }
            let expected = Self.foundation(bytes)
            let read: JSONValue?
            let problem: String?
            do throws(JSONSyntaxError) {
                read = try JSONValue.parse(bytes: bytes, duplicateKeys: .firstWins)
                problem = nil
            } catch {
                read = nil
                problem = error.message
            }
            switch (read, expected) {
            case (nil, nil):
                bothRefused += 1
            case (let read?, let expected?):
                bothAccepted += 1
                c.expect(read == expected, "reader: \(read)\nJSONDecoder: \(expected)")
                if let last = try? JSONValue.parse(bytes: bytes), last != read {
                    duplicates += 1
                    c.expect((try? JSONValue.parse(bytes: bytes, duplicateKeys: .reject)) == nil,
                             "the last and first duplicate differ, yet no duplicate key is reported")
                }
            case (nil, let expected?):
                if let repaired = Self.withoutTrailingCommas(bytes) {
                    trailingCommas += 1
                    let again = try? JSONValue.parse(bytes: repaired, duplicateKeys: .firstWins)
                    c.expect(again == expected, "without trailing commas, reader: \(again.map { "\($0)" } ?? "refuses")")
                } else {
                    c.expect(false, "reader refuses (\(problem ?? "")), JSONDecoder reads \(expected)")
                }
            case (let read?, nil):
                if Self.holdsNumberFoundationMistakesForUnderflow(bytes) {
                    zeroBug += 1
                } else {
                    c.expect(false, "reader reads \(read), JSONDecoder refuses")
                }
            }
        }
        // Not vacuous: plenty of each kind of input was seen.
        #expect(bothAccepted > 2000 && bothRefused > 2000 && trailingCommas > 200,
                """
                both accepted \(bothAccepted), both refused \(bothRefused), trailing commas \(trailingCommas), \
                duplicates \(duplicates), Foundation's zero bug \(zeroBug)
                """)
    }

    /// Arbitrary bytes never trap, and every refusal names a byte inside (or just past) the input.
    @Test func arbitraryBytesNeverTrap() {
        Fuzz.run("json.reader-bytes", count: 20000) { c in
            let bytes = c.rng.chance(1, in: 2)
                ? FuzzMutator.randomBytes(&c.rng, max: 512)
                : FuzzMutator.mutate(c.rng.pick(Self.seeds), &c.rng, others: Self.seeds)
            c.input(bytes)
            do throws(JSONSyntaxError) {
                _ = try JSONValue.parse(bytes: bytes)
            } catch {
                c.expect((0...bytes.count).contains(error.offset), "offset \(error.offset) of \(bytes.count) bytes")
                c.expect(error.message.contains("byte \(error.offset)") || error.offset == bytes.count,
                         "\(error.message) does not name byte \(error.offset)")
            }
        }
    }
}
