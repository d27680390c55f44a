import Foundation
import RegistrarCore
import Testing

/// `JSONValue.jsonText` and the `JSONText` shortcuts must write exactly the bytes `JSONText.encode` (JSONEncoder
/// with sorted keys and unescaped slashes) writes: stored text is compared and deduplicated as text.
@Suite(.timeLimit(.minutes(2)))
struct JSONWriterTests {
    static func foundation<T: Encodable>(_ value: T) -> String? { try? JSONText.encode(value) }

    // MARK: Keys

    /// JSONEncoder sorts keys by their UTF-8 bytes outside Apple platforms: "10" before "9", upper case before
    /// "_" before lower case, a key spelled "e\u{301}…" (e, then a combining mark) before one spelled "é…", and
    /// U+FFFF before U+10000 (in UTF-16 order it would be the other way round).
    @Test func keysSortByUTF8Bytes() {
        let keys = ["a", "B", "é", "e\u{301}x", "_", "10", "9", "", " ", "~", "\u{7F}", "Z", "aa", "a\u{0}", "\u{FFFF}",
                    "\u{10000}", "\u{FEFF}", "ß", "ss", "Å", "\u{212B}x", "A\u{30A}y", "éa"]
        let value = JSONValue.object(Dictionary(keys.enumerated().map { ($1, JSONValue.number(Double($0))) }) { a, _ in a })
        #expect(value.jsonText == Self.foundation(value))
        // "e\u{301}x" sorts before "éa" by bytes (0x65 < 0xC3) but after it by String.< (which compares "éx").
        #expect(JSONValue.object(["éa": .number(1), "e\u{301}x": .number(2)]).jsonText == "{\"e\u{301}x\":2,\"éa\":1}")
        #expect(JSONValue.object(["a": .null, "B": .null, "é": .null, "_": .null, "10": .null, "9": .null]).jsonText
                == #"{"10":null,"9":null,"B":null,"_":null,"a":null,"é":null}"#)
        #expect(JSONValue.object(["e\u{301}": .null, "f": .null]).jsonText == "{\"e\u{301}\":null,\"f\":null}")
        #expect(JSONText.encode(strings: ["a": "1", "B": "2", "é": "3", "_": "4", "10": "5", "9": "6"])
                == #"{"10":"5","9":"6","B":"2","_":"4","a":"1","é":"3"}"#)
    }

    // MARK: Strings

    @Test func everyASCIIAndControlCharacterIsEscapedAsJSONEncoderDoes() {
        for byte in UInt8(0)..<0x80 {
            let value = JSONValue.string("a" + String(Unicode.Scalar(byte)) + "b")
            #expect(value.jsonText == Self.foundation(value), "byte \(byte)")
        }
        #expect(JSONValue.string("\u{0}\u{1}\u{8}\t\n\u{B}\u{C}\r\u{1F}\u{7F}\"\\/").jsonText
                == #""\u0000\u0001\b\t\n\u000b\f\r\u001f\#u{7F}\"\\/""#)
    }

    @Test(arguments: ["\u{80}", "\u{A0}", "é", "e\u{301}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}",
                      "\u{10000}", "\u{10FFFF}", "😀", "👩‍👩‍👧", "—", "Café Course — Verified", "</script>", "", "\u{0}"])
    func nonASCIIIsWrittenAsIs(text: String) {
        let value = JSONValue.string(text)
        #expect(value.jsonText == Self.foundation(value))
        #expect(JSONValue.parse(value.jsonText) == value)
    }

    // MARK: Numbers

    @Test(arguments: [
        0, -0.0, 1, -1, 7, 0.1, 0.5, -2.5, 1.5, 3.141592653589793, 1e-7, 1e-6, 0.000123, 123.456,
        1e15 - 1, 1e15, -1e15, -(1e15 - 1), 1e15 + 0.5, 999999999999999.5, 1e16, 1e21, 1e22, 1e23, 1.5e300,
        9007199254740992, 9007199254740994, 18446744073709551616, 1.2345678901234568e17,
        Double.leastNonzeroMagnitude, 2.2250738585072014e-308, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
        Double.leastNormalMagnitude, 100, 1e14, 123456789012345, -123456789012345.5, 0.30000000000000004,
    ] as [Double])
    func numbersAreWrittenAsJSONEncoderWritesThem(number: Double) {
        let value = JSONValue.number(number)
        #expect(value.jsonText == Self.foundation(value), "\(number)")
        #expect(JSONValue.parse(value.jsonText) == value)
    }

    /// JSONEncoder refuses these (`JSONText.encode` throws); the writer must write something, and `null` is what
    /// JavaScript writes. Not reachable from text: the reader refuses numbers that do not fit a Double.
    @Test func nonFiniteNumbersAreWrittenNull() {
        for number in [Double.nan, .infinity, -.infinity, .signalingNaN] {
            #expect(JSONValue.number(number).jsonText == "null")
            #expect(Self.foundation(JSONValue.number(number)) == nil)
        }
        #expect(JSONValue.array([.number(.nan), .number(1)]).jsonText == "[null,1]")
    }

    @Test func randomDoublesAreWrittenAsJSONEncoderWritesThem() {
        Fuzz.run("json.writer-double", count: 20000) { c in
            let number = RandomJSON.number(&c.rng)
            let value = JSONValue.number(number)
            let text = value.jsonText
            c.input(text)
            c.expect(text == Self.foundation(value), "\(number) (\(number.bitPattern)): \(text) vs \(Self.foundation(value) ?? "throws")")
            let back = JSONValue.parse(text)
            c.expect(back == value, "\(text) reads back as \(back.map { "\($0)" } ?? "nothing")")
        }
    }

    // MARK: Structure

    @Test(arguments: [
        (JSONValue.null, "null"), (.bool(true), "true"), (.bool(false), "false"), (.string("x"), "\"x\""),
        (.array([]), "[]"), (.object([:]), "{}"), (.array([.null, .array([]), .object([:])]), "[null,[],{}]"),
        (.object(["b": .array([.number(1), .number(2.5)]), "a": .object(["y": .null, "x": .bool(false)])]),
         #"{"a":{"x":false,"y":null},"b":[1,2.5]}"#),
    ])
    func structureIsCompact(value: JSONValue, expected: String) {
        #expect(value.jsonText == expected)
        #expect(Self.foundation(value) == expected)
        #expect(value.jsonBytes == Array(expected.utf8))
    }

    /// JSONEncoder refuses to nest 512 deep; below that the two agree, and the writer also writes deeper values.
    @Test func deepNesting() {
        var value = JSONValue.null
        for level in 0..<511 { value = level % 2 == 0 ? .array([value]) : .object(["k": value]) }
        #expect(value.jsonText == Self.foundation(value))
        let deeper = JSONValue.array([value])
        #expect(Self.foundation(deeper) == nil)
        #expect(deeper.jsonText == "[" + value.jsonText + "]")
    }

    @Test func fixturesAreWrittenAsJSONEncoderWritesThem() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: WooFixtures.directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        for name in names {
            let value = try JSONValue.parse(bytes: WooFixtures.bytes(name))
            #expect(value.jsonText == Self.foundation(value), "\(name)")
        }
    }

    /// (a) For random values: the writer's bytes are JSONEncoder's, and reading them gives the value back.
    @Test func randomValuesMatchJSONEncoderAndRoundTrip() {
        Fuzz.run("json.writer", count: 6000) { c in
            let value = RandomJSON.value(&c.rng)
            let text = value.jsonText
            c.input(text)
            c.expect(text == Self.foundation(value), "writer:      \(text)\nJSONEncoder: \(Self.foundation(value) ?? "throws")")
            c.expect(value.jsonBytes == Array(text.utf8), "jsonBytes differs from jsonText")
            do throws(JSONSyntaxError) {
                let back = try JSONValue.parse(bytes: value.jsonBytes, duplicateKeys: .reject)
                c.expect(back == value, "read back as \(back)")
                c.expect(back.jsonText == text, "written again as \(back.jsonText)")
            } catch {
                c.expect(false, "the writer's output is refused: \(error.message)")
            }
        }
    }

    // MARK: Shortcuts

    @Test func stringDictionariesMatchJSONText() {
        #expect(JSONText.encode(strings: [:]) == Self.foundation([String: String]()))
        #expect(JSONText.encode(strings: ["content-type": "application/json", "x-wc-webhook-topic": "order.updated",
                                          "x-path": "/webhooks/woocommerce/main"])
                == Self.foundation(["content-type": "application/json", "x-wc-webhook-topic": "order.updated",
                                    "x-path": "/webhooks/woocommerce/main"]))
        Fuzz.run("json.writer-strings", count: 3000) { c in
            var fields: [String: String] = [:]
            for _ in 0..<c.rng.below(8) { fields[RandomJSON.string(&c.rng)] = RandomJSON.string(&c.rng) }
            let text = JSONText.encode(strings: fields)
            c.input(text)
            c.expect(text == Self.foundation(fields), "\(text) vs \(Self.foundation(fields) ?? "throws")")
            c.expect(text == JSONValue.object(fields.mapValues(JSONValue.string)).jsonText, "differs from jsonText")
        }
    }

    @Test func idListsMatchJSONText() {
        let edges: [Int64] = [0, 1, -1, 9, 10, 99, 100, 1_000_000_000_000_000, .max, .min, .max - 1, .min + 1]
        #expect(JSONText.encode(ids: []) == "[]")
        #expect(JSONText.encode(ids: edges) == Self.foundation(edges))
        Fuzz.run("json.writer-ids", count: 3000) { c in
            let ids = (0..<c.rng.length(max: 40)).map { _ in
                c.rng.chance(1, in: 2) ? Int64(c.rng.below(100_000)) : Int64(bitPattern: c.rng.next())
            }
            let text = JSONText.encode(ids: ids)
            c.input(text)
            c.expect(text == Self.foundation(ids), "\(text) vs \(Self.foundation(ids) ?? "throws")")
        }
    }
}

/// Seeded random JSON values, biased towards what breaks writers: escapes, non-ASCII, keys that sort
/// differently by bytes, scalars and `String.<`, and numbers at the integer/Double boundary.
enum RandomJSON {
    static let scalars: [Unicode.Scalar] = Array(
        "aZ09 _-~/\\\"'{}[]:,.é\u{301}ßÅ\u{30A}\u{212B}✓—😀\u{7F}\u{80}\u{A0}\u{2028}\u{2029}\u{FEFF}\u{FFFD}\u{FFFF}\u{10000}\u{10FFFF}"
            .unicodeScalars) + (0..<0x20).map { Unicode.Scalar(UInt8($0)) }

    static func string(_ rng: inout SplitMix64) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<rng.length(max: 24) {
            scalars.append(rng.chance(1, in: 3) ? Unicode.Scalar(UInt8(0x61 + rng.below(26))) : rng.pick(Self.scalars))
        }
        return String(scalars)
    }

    static func number(_ rng: inout SplitMix64) -> Double {
        switch rng.below(8) {
        case 0: return Double(rng.below(2000)) - 1000
        case 1: return Double(Int64(bitPattern: rng.next()) >> rng.below(64))
        case 2: return (Double(rng.below(2_000_000)) - 1_000_000) / Double(rng.pick([10, 100, 1000, 7, 3]))
        case 3: return rng.pick([1e15, -1e15, 1e15 - 1, 1e15 + 1, 1e15 - 0.5, 9007199254740992, 0, -0.0, 1e16, 1e21])
        case 4: return Double(rng.below(1 << 20)) * pow(10, Double(rng.below(40) - 20))
        default:
            // Any finite bit pattern: denormals, huge and tiny exponents, long shortest representations.
            while true {
                let number = Double(bitPattern: rng.next())
                if number.isFinite { return number }
            }
        }
    }

    static func value(_ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
        switch rng.below(depth > 4 ? 4 : 7) {
        case 0: return .null
        case 1: return .bool(rng.chance(1, in: 2))
        case 2: return .number(number(&rng))
        case 3: return .string(string(&rng))
        case 4, 5:
            if rng.chance(1, in: 2) {
                return .array((0..<rng.below(6)).map { _ in value(&rng, depth: depth + 1) })
            }
            var fields: [String: JSONValue] = [:]
            for _ in 0..<rng.below(7) { fields[string(&rng)] = value(&rng, depth: depth + 1) }
            return .object(fields)
        default:
            return .array([value(&rng, depth: depth + 1)])
        }
    }
}
