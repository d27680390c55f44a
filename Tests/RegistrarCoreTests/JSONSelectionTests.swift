import Foundation
import RegistrarCore
import Testing

/// `JSONValue.parse(bytes:selecting:)` builds only part of a document. It must give exactly the full document's
/// value with the rest left out, and accept, refuse and describe errors exactly as the full read does.
@Suite(.timeLimit(.minutes(2)))
struct JSONSelectionTests {
    /// A selection as the test sees it: builds the real one, and projects a fully read value the slow, obvious way.
    indirect enum Spec: CustomStringConvertible {
        case everything
        case members([(String, Spec)])
        case elements(Spec)

        var selection: JSONSelection {
            switch self {
            case .everything: .everything
            case .members(let list):
                .members(list.map { ($0.0, $0.1.selection) })
            case .elements(let spec): .elements(spec.selection)
            }
        }

        func project(_ value: JSONValue) -> JSONValue {
            switch (self, value) {
            case (.everything, _):
                return value
            case (.members(let list), .object(let fields)):
                var kept: [String: JSONValue] = [:]
                // A key named twice in the selection keeps its last selection.
                var specs: [(String, Spec)] = []
                for (key, spec) in list {
                    specs.removeAll { $0.0 == key }
                    specs.append((key, spec))
                }
                for (key, spec) in specs {
                    if let field = fields[key] { kept[key] = spec.project(field) }
                }
                return .object(kept)
            case (.members, _):
                return value
            case (.elements(let spec), .array(let items)):
                return .array(items.map(spec.project))
            case (.elements(let spec), .object(let fields)):
                return .object(fields.mapValues(spec.project))
            case (.elements, _):
                return value
            }
        }

        var description: String {
            switch self {
            case .everything: "*"
            case .members(let list): "{" + list.map { "\($0.0.debugDescription): \($0.1)" }.joined(separator: ", ") + "}"
            case .elements(let spec): "[\(spec)]"
            }
        }
    }

    /// A selection shaped by `value` (so that it mostly names keys that are there), with strays mixed in.
    static func spec(for value: JSONValue, _ rng: inout SplitMix64, depth: Int = 0) -> Spec {
        if depth > 6 || rng.chance(1, in: 6) { return .everything }
        switch value {
        case .object(let fields) where rng.chance(3, in: 4):
            var list: [(String, Spec)] = []
            for (key, field) in fields where rng.chance(1, in: 2) {
                list.append((key, spec(for: field, &rng, depth: depth + 1)))
            }
            if rng.chance(1, in: 3) { list.append((RandomJSON.string(&rng), .everything)) }
            if let key = fields.keys.first, rng.chance(1, in: 6) { list.append((key, .everything)) }
            return .members(list)
        case .object(let fields):
            return .elements(fields.values.first.map { spec(for: $0, &rng, depth: depth + 1) } ?? .everything)
        case .array(let items) where rng.chance(3, in: 4):
            return .elements(items.first.map { spec(for: $0, &rng, depth: depth + 1) } ?? .everything)
        default:
            return rng.chance(1, in: 2) ? .members([("a", .everything)]) : .elements(.members([]))
        }
    }

    static func read(_ bytes: [UInt8], _ selection: JSONSelection) -> Result<JSONValue, JSONSyntaxError> {
        Result { () throws(JSONSyntaxError) in try JSONValue.parse(bytes: bytes, selecting: selection) }
    }

    static func readAll(_ bytes: [UInt8]) -> Result<JSONValue, JSONSyntaxError> {
        Result { () throws(JSONSyntaxError) in try JSONValue.parse(bytes: bytes) }
    }

    @Test func keepsOnlyWhatIsNamed() throws {
        let text = """
            {"id": 7, "skip": {"deep": ["x", 1e3, {"a": null}]}, "lines": [{"id": 1, "n": "a", "junk": [1]},
             {"id": 2, "junk": "\\u00e9"}], "billing": {"email": "A@B.C", "phone": "1"}, "list": {"3": {"id": 3, "x": 0}}}
            """
        let selection = JSONSelection.members([
            "id": .everything,
            "lines": .elements(.members(["id": .everything, "n": .everything])),
            "billing": .members(["email": .everything]),
            "list": .elements(.members(["id": .everything])),
            "absent": .everything,
        ])
        let read = try JSONValue.parse(bytes: Array(text.utf8), selecting: selection)
        #expect(read == .object([
            "id": .number(7),
            "lines": .array([.object(["id": .number(1), "n": .string("a")]), .object(["id": .number(2)])]),
            "billing": .object(["email": .string("A@B.C")]),
            "list": .object(["3": .object(["id": .number(3)])]),
        ]))
    }

    @Test func keysWrittenWithEscapesOrOtherSpellingsAreStillFound() throws {
        // "\u0069d" is "id"; "caf\u00e9" and "cafe\u0301" are the same Swift string as the selection's "café".
        let text = #"{"\u0069d": 1, "caf\u00e9": 2, "other": 3}"#
        let read = try JSONValue.parse(bytes: Array(text.utf8), selecting: .members(["id": .everything, "café": .everything]))
        #expect(read == .object(["id": .number(1), "café": .number(2)]))
        let decomposed = try JSONValue.parse(bytes: Array(#"{"cafe\u0301": 2}"#.utf8), selecting: .members(["café": .everything]))
        #expect(decomposed == .object(["café": .number(2)]))
        // The Kelvin sign's canonical form is the letter K: a non-ASCII key in the selection finds an ASCII one.
        let kelvin = try JSONValue.parse(bytes: Array(#"{"K": 1}"#.utf8), selecting: .members(["\u{212A}": .everything]))
        #expect(kelvin == .object(["\u{212A}": .number(1)]))
    }

    @Test func theLastOfDuplicateKeysWinsAsInTheFullRead() throws {
        let text = #"{"a": 1, "b": 2, "a": {"x": 3, "y": 4}}"#
        let read = try JSONValue.parse(bytes: Array(text.utf8), selecting: .members(["a": .members(["y": .everything])]))
        #expect(read == .object(["a": .object(["y": .number(4)])]))
    }

    @Test(arguments: [
        #"{"keep": 1, "drop": "\ud800"}"#,
        #"{"keep": 1, "drop": [1, 2,]}"#,
        #"{"keep": 1, "drop": {"x": 01}}"#,
        #"{"keep": 1, "drop": 1e999}"#,
        "{\"keep\": 1, \"drop\": \"\u{01}\"}",
        #"{"keep": 1, "dr\op": 2}"#,
        #"{"keep": 1, "drop": tru}"#,
        #"{"keep": 1, "drop": [[[[[[["#,
    ])
    func whatIsNotBuiltIsStillChecked(text: String) {
        let bytes = Array(text.utf8)
        let selection = JSONSelection.members(["keep": .everything])
        guard case .failure(let full) = Self.readAll(bytes) else {
            Issue.record("the full read accepts \(text)")
            return
        }
        #expect(Self.read(bytes, selection) == .failure(full))
    }

    @Test func invalidUTF8InASkippedStringIsRefused() {
        let bytes = Array(#"{"keep": 1, "drop": ""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)
        guard case .failure(let full) = Self.readAll(bytes) else {
            Issue.record("the full read accepts an overlong encoding")
            return
        }
        #expect(Self.read(bytes, .members(["keep": .everything])) == .failure(full))
        #expect(Self.read(bytes, .members([:])) == .failure(full))
    }

    /// Random documents and selections: the selective read is the projection of the full read, and any error
    /// is the full read's error, byte offset included.
    @Test func isTheProjectionOfTheFullRead() {
        var compared = 0, refused = 0
        Fuzz.run("json.selection-vs-full", count: 6000) { c in
            var bytes: [UInt8]
            let shape: JSONValue
            switch c.rng.below(4) {
            case 0, 1:
                shape = RandomJSON.value(&c.rng)
                bytes = shape.jsonBytes
                for _ in 0..<c.rng.below(4) {
                    bytes.insert(c.rng.pick([0x20, 0x09, 0x0A, 0x0D]), at: c.rng.below(bytes.count + 1))
                }
            case 2:
                bytes = c.rng.pick(JSONReaderTests.seeds)
                shape = (try? JSONValue.parse(bytes: bytes)) ?? .null
            default:
                let seed = c.rng.pick(JSONReaderTests.seeds)
                shape = (try? JSONValue.parse(bytes: seed)) ?? .null
                bytes = FuzzMutator.mutate(seed, &c.rng, others: JSONReaderTests.seeds)
            }
            c.input(bytes)
            let spec = Self.spec(for: shape, &c.rng)
            switch (Self.readAll(bytes), Self.read(bytes, spec.selection)) {
            case (.success(let full), .success(let selected)):
                compared += 1
                c.expect(selected == spec.project(full), "selection \(spec)\nselected: \(selected)\nprojected: \(spec.project(full))")
            case (.failure(let full), .failure(let selected)):
                refused += 1
                c.expect(selected == full, "selection \(spec): \(selected) where the full read says \(full)")
            case (.success, .failure(let selected)):
                c.expect(false, "selection \(spec) refuses what the full read accepts: \(selected)")
            case (.failure(let full), .success):
                c.expect(false, "selection \(spec) accepts what the full read refuses: \(full)")
            }
        }
        #expect(compared > 2000 && refused > 500, "compared \(compared), refused \(refused)")
    }
}
