import Foundation
import TestSupport
import Testing

// Property-based fuzzing for CI: seeded and bounded, so a failure is a reproducible test failure rather than a
// flake. The long, coverage-guided runs live in fuzz/ (libFuzzer); see fuzz/README.md.
//
// Environment, for local runs only:
//   REGISTRAR_FUZZ_SCALE=N    multiplies every iteration count (a longer run of the same properties)
//   REGISTRAR_FUZZ_SEED=S     a different base seed (UInt64), to explore inputs CI never sees
//   REGISTRAR_FUZZ_ONLY=I     runs only iteration I of each selected property (reproducing a report)
//   REGISTRAR_FUZZ_TRACE=1    prints every input before it is tried: a trap kills the process without a report,
//                             and the last input printed is the one that trapped

/// The shared seeded generator (SplitMix64): the same sequence on every platform and Swift version.
typealias SplitMix64 = SeededRandom

extension SplitMix64 {
    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { below(denominator) < numerator }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Lengths skewed small: most parser bugs show on short inputs, and short inputs keep the run fast.
    mutating func length(max: Int) -> Int {
        switch below(4) {
        case 0: below(9)
        case 1: below(33)
        case 2: below(129)
        default: below(max + 1)
        }
    }
}

/// One generated input of one property.
struct FuzzCase {
    var rng: SplitMix64
    let iteration: Int
    fileprivate(set) var failures: [String] = []
    fileprivate var input: [UInt8] = []
    fileprivate let trace: Bool

    /// Names the input so a failure report (or a trace) can show it.
    mutating func input(_ bytes: [UInt8]) {
        input = bytes
        if trace { print("fuzz input \(iteration): \(Fuzz.render(bytes))") }
    }

    mutating func input(_ text: String) { input(Array(text.utf8)) }

    mutating func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { failures.append(message()) }
    }
}

enum Fuzz {
    static let scale = max(1, Int(ProcessInfo.processInfo.environment["REGISTRAR_FUZZ_SCALE"] ?? "") ?? 1)
    static let baseSeed = UInt64(ProcessInfo.processInfo.environment["REGISTRAR_FUZZ_SEED"] ?? "") ?? 0x5EED_0007
    static let only = Int(ProcessInfo.processInfo.environment["REGISTRAR_FUZZ_ONLY"] ?? "")
    static let trace = ProcessInfo.processInfo.environment["REGISTRAR_FUZZ_TRACE"] != nil

    /// Runs `body` on `count` inputs (times REGISTRAR_FUZZ_SCALE). Every iteration has its own seed, derived from
    /// the property's name and the iteration number, so any one input can be regenerated alone.
    static func run(_ property: String, count: Int, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: (inout FuzzCase) -> Void) {
        let total = count * scale
        let propertySeed = baseSeed ^ fnv1a(property)
        var reported = 0
        for iteration in only.map({ [$0] }) ?? Array(0..<total) {
            var fuzzCase = FuzzCase(rng: SplitMix64(seed: mix(propertySeed, UInt64(iteration))), iteration: iteration,
                                    trace: trace)
            body(&fuzzCase)
            guard !fuzzCase.failures.isEmpty else { continue }
            reported += 1
            Issue.record("""
                \(property), iteration \(iteration) (REGISTRAR_FUZZ_SEED=\(baseSeed) REGISTRAR_FUZZ_ONLY=\(iteration)):
                \(fuzzCase.failures.prefix(3).joined(separator: "\n"))
                input (\(fuzzCase.input.count) bytes): \(render(fuzzCase.input))
                """, sourceLocation: sourceLocation)
            // One input is enough to act on; thousands of reports of one bug are noise.
            if reported == 3 { return }
        }
    }

    /// Printable ASCII as is, everything else escaped, cut to a size a test log can hold.
    static func render(_ bytes: [UInt8], limit: Int = 4096) -> String {
        var out = ""
        for byte in bytes.prefix(limit) {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return bytes.count > limit ? out + "… (\(bytes.count - limit) more bytes)" : out
    }

    /// FNV-1a: a stable string hash (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }

    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15))
        return generator.next()
    }
}

/// Byte-level mutations in the style of libFuzzer's default mutators, plus tokens of the formats under test,
/// which random bytes would almost never spell.
enum FuzzMutator {
    static let tokens: [[UInt8]] = [
        "\"", "\\", "{", "}", "[", "]", ",", ":", "null", "true", "false", "0", "-1", "-0", "1.5", "1e309", "-1e309",
        "9007199254740993", "99999999999999999999", "\"\"", "\\u0000", "\\ud800", "\\udc00\\ud800", "\\u00e9",
        "{}", "[]", "{\"0\":1}", "%", "%0", "%zz", "%FF", "%C3", "%C3%A9", "%00", "%+1", "%-0", "&", "&&", "=", "==",
        "+", ";", "&amp;", "\u{301}", "e\u{301}", "\u{00}", "\u{7F}", "\u{FEFF}", "é", "\u{10FFFF}", "\u{0660}", "\r\n", " ", "\t",
        "signature=", "signed_field_names=", "decision=ACCEPT", "decision=DECLINE", "req_amount=0.01",
        "req_profile_id=0000002", "webhook_id=", "course-v1:", "course-v1:a+b+c",
    ].map { Array($0.utf8) }

    static let interestingBytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xC0, 0xC3, 0xED, 0xF4, 0xFF, 0x22, 0x25, 0x26, 0x2B,
                                            0x2C, 0x2D, 0x2E, 0x30, 0x39, 0x3A, 0x3D, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D]

    /// One to four stacked mutations of `input`; `others` are splice partners.
    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64, others: [[UInt8]] = []) -> [UInt8] {
        var bytes = input
        for _ in 0...rng.below(4) { mutateOnce(&bytes, &rng, others: others) }
        return bytes
    }

    static func mutateOnce(_ bytes: inout [UInt8], _ rng: inout SplitMix64, others: [[UInt8]]) {
        let position = rng.below(bytes.count + 1)
        switch rng.below(11) {
        case 0 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] ^= UInt8(1) << UInt8(rng.below(8))
        case 1 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: rng.next())
        case 2 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] = rng.pick(interestingBytes)
        case 3:
            bytes.removeSubrange(position..<min(bytes.count, position + 1 + rng.below(16)))
        case 4:
            bytes = Array(bytes.prefix(position))
        case 5:
            bytes.insert(contentsOf: (0..<1 + rng.below(8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                         at: position)
        case 6, 7:
            bytes.insert(contentsOf: rng.pick(tokens), at: position)
        case 8 where !bytes.isEmpty:
            let start = rng.below(bytes.count)
            let chunk = bytes[start..<min(bytes.count, start + 1 + rng.below(64))]
            bytes.insert(contentsOf: chunk, at: position)
        case 9 where !others.isEmpty:
            // Splice: this input's head, another's tail.
            let other = rng.pick(others)
            bytes = Array(bytes.prefix(position)) + other.suffix(from: rng.below(other.count + 1))
        case 10 where bytes.count > 1:
            let a = rng.below(bytes.count), b = rng.below(bytes.count)
            bytes.swapAt(a, b)
        default:
            bytes.insert(rng.pick(interestingBytes), at: position)
        }
    }

    /// Random bytes, half the time from an alphabet the parsers care about, so they get past the first byte.
    static func randomBytes(_ rng: inout SplitMix64, max: Int = 512, alphabet: [UInt8]? = nil) -> [UInt8] {
        let count = rng.length(max: max)
        if let alphabet, rng.chance(1, in: 2) {
            return (0..<count).map { _ in rng.pick(alphabet) }
        }
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    static let jsonAlphabet = Array("{}[]\":,0123456789-+.eE truefalsnl\\u\"idstatusline_items".utf8)
    static let formAlphabet = Array("abcdefg_=&%+,0123456789ABCDEFxz.-~ ".utf8)
}
