import Synchronization

/// What paces the client's calls: this process's own `RequestPacer`, or a budget shared with other instances.
public protocol RequestPacing: Sendable {
    /// Waits for this caller's slot. Throws only when the task is cancelled (or a shared budget cannot be reached).
    func acquire() async throws
    /// Holds back every caller until `duration` from now (a 429's Retry-After).
    func pause(for duration: Duration)
    /// How much longer every call waits because of a 429; nil when none does.
    var pausedFor: Duration? { get }
}

/// Client-side pacing just under `requestsPerMinute`: each request takes the next free slot, one every
/// `60 s / rate` (plus 1 %), so a burst of jobs is spread out instead of meeting the LMS's staff throttle.
/// A 429 pauses every caller until the server's Retry-After has passed.
public final class RequestPacer: RequestPacing {
    private struct State {
        var nextSlot: ContinuousClock.Instant
        var pausedUntil: ContinuousClock.Instant
    }

    /// The time between two slots.
    public let interval: Duration
    private let state: Mutex<State>

    public init(requestsPerMinute: Int) {
        // 1 % slower than the limit: slots exactly 60 s / rate apart put rate + 1 requests in some 60 s window
        // (both ends included), and requests leave a little late or early, so pacing at the exact limit meets
        // the LMS's sliding-window throttle now and then.
        interval = .seconds(60) / max(1, requestsPerMinute) * 1.01
        let now = ContinuousClock.now
        state = Mutex(State(nextSlot: now, pausedUntil: now))
    }

    /// Waits for this caller's slot. Throws only when the task is cancelled.
    public func acquire() async throws {
        let slot = state.withLock { state -> ContinuousClock.Instant in
            let slot = max(ContinuousClock.now, state.nextSlot, state.pausedUntil)
            state.nextSlot = slot + interval
            return slot
        }
        if slot > .now { try await Task.sleep(until: slot, clock: .continuous) }
    }

    /// Holds back every caller until `duration` from now (a 429's Retry-After).
    /// How much longer every call waits because of a 429; nil when none does.
    public var pausedFor: Duration? {
        let remaining = state.withLock { $0.pausedUntil } - ContinuousClock.now
        return remaining > .zero ? remaining : nil
    }

    public func pause(for duration: Duration) {
        state.withLock { state in
            let until = ContinuousClock.now + duration
            state.pausedUntil = max(state.pausedUntil, until)
            state.nextSlot = max(state.nextSlot, until)
        }
    }
}
