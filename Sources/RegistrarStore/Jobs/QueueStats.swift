import RegistrarCore

/// Counts by kind and state, and how far behind the workers are.
public struct QueueStats: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var kind: JobKind
        public var state: JobState
        public var count: Int

        public init(kind: JobKind, state: JobState, count: Int) {
            self.kind = kind
            self.state = state
            self.count = count
        }
    }
    public var counts: [Count]
    /// Age of the oldest job waiting in `queued`, nil when none waits.
    public var oldestQueuedAge: Duration?
    /// Age of the oldest job that is due now and not running: how far behind the workers are.
    public var oldestDueAge: Duration?

    public init(counts: [Count], oldestQueuedAge: Duration?, oldestDueAge: Duration?) {
        self.counts = counts
        self.oldestQueuedAge = oldestQueuedAge
        self.oldestDueAge = oldestDueAge
    }

    /// The kind of a count over every kind (`stateCounts()`'s succeeded).
    public static let allKinds: JobKind = "*"

    public func total(state: JobState) -> Int { counts.filter { $0.state == state }.reduce(0) { $0 + $1.count } }
    public var total: Int { counts.reduce(0) { $0 + $1.count } }
}
