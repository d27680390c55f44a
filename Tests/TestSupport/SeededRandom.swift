import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and the same on every platform and Swift version, which
/// `SystemRandomNumberGenerator` and `Hasher` are not. A seed printed by a failing run replays the same inputs.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The seed to use: the environment variable when set (decimal, or hex with 0x), to replay a failure;
    /// else `value`.
    public static func seed(from variable: String, default value: UInt64) -> UInt64 {
        guard let text = ProcessInfo.processInfo.environment[variable] else { return value }
        let trimmed = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        return UInt64(trimmed, radix: text.hasPrefix("0x") ? 16 : 10) ?? value
    }
}
