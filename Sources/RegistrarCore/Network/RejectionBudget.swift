import Foundation

/// How many rejected deliveries each client address may have recorded per minute. Past the budget a client's
/// rejections are answered 429 and only counted, so one anonymous client cannot write the ledger as fast as
/// it can send. Two fixed one-minute windows weighted by overlap (the "sliding window counter") keep a burst
/// at a window's edge from doubling the budget, with two counters per address.
public struct RejectionBudget: Sendable {
    public let perMinute: Int
    /// Past this many tracked addresses the oldest are forgotten, so a spray of addresses cannot grow memory
    /// without bound; a forgotten address starts afresh, which costs at most one more budget.
    public let maxTracked: Int
    private var windows: [String: Window] = [:]

    struct Window: Sendable {
        var minute: Int64
        var current: Int
        var previous: Int
    }

    public init(perMinute: Int, maxTracked: Int = 100_000) {
        self.perMinute = perMinute
        self.maxTracked = maxTracked
    }

    /// Counts one rejection of `client` at `now`; true when it is within the budget and may be recorded.
    public mutating func admit(_ client: String, at now: Date) -> Bool {
        let seconds = now.timeIntervalSince1970
        let minute = Int64((seconds / 60).rounded(.down))
        var window = windows[client] ?? Window(minute: minute, current: 0, previous: 0)
        if window.minute != minute {
            window.previous = window.minute == minute - 1 ? window.current : 0
            window.current = 0
            window.minute = minute
        }
        let elapsed = (seconds - Double(minute) * 60) / 60
        let estimate = Double(window.previous) * (1 - elapsed) + Double(window.current)
        let admitted = estimate < Double(perMinute)
        if admitted { window.current += 1 }
        if windows[client] == nil, windows.count >= maxTracked { forgetStale(before: minute) }
        windows[client] = window
        return admitted
    }

    /// Whether `client` has used its budget at `now`, without counting anything: a caller that counts only
    /// failures asks this first and refuses without doing the work.
    public func isExhausted(_ client: String, at now: Date) -> Bool {
        guard let window = windows[client] else { return false }
        let seconds = now.timeIntervalSince1970
        let minute = Int64((seconds / 60).rounded(.down))
        let elapsed = (seconds - Double(minute) * 60) / 60
        let (previous, current): (Int, Int)
        switch window.minute {
        case minute: (previous, current) = (window.previous, window.current)
        case minute - 1: (previous, current) = (window.current, 0)
        default: return false
        }
        return Double(previous) * (1 - elapsed) + Double(current) >= Double(perMinute)
    }

    /// Addresses currently tracked (for tests and the metric).
    public var trackedCount: Int { windows.count }

    private mutating func forgetStale(before minute: Int64) {
        windows = windows.filter { $0.value.minute >= minute - 1 }
        // Everyone is current: drop an arbitrary half rather than grow.
        if windows.count >= maxTracked {
            windows = Dictionary(uniqueKeysWithValues: windows.prefix(maxTracked / 2).map { ($0.key, $0.value) })
        }
    }
}
