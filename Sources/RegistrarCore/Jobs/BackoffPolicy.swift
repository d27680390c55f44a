/// Exponential backoff with jitter: `min(cap, base · 2^(attempt-1))`, then spread by ±`jitter` so that a batch
/// of jobs that failed together does not retry together.
public struct BackoffPolicy: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    /// Fraction of the delay to spread over, both ways (0.1 = ±10 %).
    public var jitter: Double

    public init(base: Duration, cap: Duration, jitter: Double = 0.1) {
        self.base = base
        self.cap = cap
        self.jitter = jitter
    }

    /// The delay before the next try, after `attempt` tries have been made (attempt ≥ 1).
    /// `unitRandom` is a number in [0, 1) from an injectable source, so tests can pin the schedule.
    public func delay(afterAttempt attempt: Int, unitRandom: Double) -> Duration {
        let exponent = max(0, attempt - 1)
        let baseSeconds = base.seconds
        let capSeconds = cap.seconds
        // 2^exponent overflows a Double's useful range long before attempts run out; stop doubling at the cap.
        let raw = exponent >= 62 ? capSeconds : min(capSeconds, baseSeconds * Double(UInt64(1) << UInt64(exponent)))
        let spread = raw * jitter * (2 * unitRandom - 1)
        let seconds = min(capSeconds * (1 + jitter), max(0, raw + spread))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension Duration {
    /// Seconds as a Double, for arithmetic that mixes durations and dates.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
