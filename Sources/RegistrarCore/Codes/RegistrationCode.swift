/// A registration code: 12 characters of Crockford base32 (`0-9A-Z` without `I L O U`), 60 bits from the
/// system's CSPRNG, shown grouped `7KQ2-M9XD-4HTR`. What people type is read in any case, with or without
/// dashes or spaces, `I L O` taken as `1 1 0`.
///
/// A code is a bearer secret: `description` (what string interpolation and log metadata show) gives only its
/// first four characters. Lists, CSVs and mail use `grouped` or `value` on purpose.
public struct RegistrationCode: Hashable, Sendable, CustomStringConvertible {
    public static let length = 12
    /// Crockford's alphabet, in value order.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// The canonical form: 12 upper-case characters, no separators.
    public let value: String

    private init(canonical: String) { value = canonical }

    /// Reads what a learner or operator typed.
    public static func parse(_ text: String) -> Result<RegistrationCode, CodeInputProblem> {
        var characters: [UInt8] = []
        characters.reserveCapacity(length)
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", "-", "\t":
                continue
            default:
                guard scalar.isASCII, let byte = canonicalByte(UInt8(scalar.value)) else {
                    return .failure(.badCharacter(Character(scalar)))
                }
                characters.append(byte)
                // Enough is known: a longer input is wrong whatever follows.
                if characters.count > length { return .failure(.wrongLength) }
            }
        }
        guard characters.count == length else { return .failure(.wrongLength) }
        return .success(RegistrationCode(canonical: String(decoding: characters, as: UTF8.self)))
    }

    /// A fresh code: 12 symbols of 5 bits each, drawn from `generator` (the system's CSPRNG in production).
    public static func generate(using generator: inout some RandomNumberGenerator) -> RegistrationCode {
        var bits = generator.next() // 64 random bits; 60 are used
        var characters = [UInt8](repeating: 0, count: length)
        for index in 0..<length {
            characters[index] = alphabet[Int(bits & 31)]
            bits >>= 5
        }
        return RegistrationCode(canonical: String(decoding: characters, as: UTF8.self))
    }

    public static func generate() -> RegistrationCode {
        var system = SystemRandomNumberGenerator()
        return generate(using: &system)
    }

    /// `7KQ2-M9XD-4HTR`.
    public var grouped: String {
        let characters = Array(value)
        return [characters[0..<4], characters[4..<8], characters[8..<12]].map { String($0) }.joined(separator: "-")
    }

    /// `7KQ2…`: all a log line may show.
    public var logSafe: String { String(value.prefix(4)) + "…" }

    public var description: String { logSafe }

    /// The canonical byte for a typed one, or nil when it is not part of a code.
    private static func canonicalByte(_ byte: UInt8) -> UInt8? {
        var upper = byte
        if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { upper = byte - 32 }
        switch upper {
        case UInt8(ascii: "I"), UInt8(ascii: "L"): return UInt8(ascii: "1")
        case UInt8(ascii: "O"): return UInt8(ascii: "0")
        case UInt8(ascii: "U"): return nil
        default: return alphabet.contains(upper) ? upper : nil
        }
    }
}

/// Why typed text is not a code, in words a learner understands.
public enum CodeInputProblem: Error, Sendable, Equatable {
    case wrongLength
    case badCharacter(Character)

    public var message: String {
        switch self {
        case .wrongLength:
            "a code has 12 letters and digits, like 7KQ2-M9XD-4HTR"
        case .badCharacter(let character):
            if character == "U" || character == "u" { "a code has no letter U: check the code" }
            else { "a code has only letters and digits (and dashes), not \"\(character.isASCII && !character.isWhitespace ? String(character) : "that character")\"" }
        }
    }
}
