import Foundation
import RegistrarCore

/// What the workers and maintenance do with jobs: add, claim, finish, keep leases, rescue, prune.
///
/// Every method is one atomic operation that has committed when it returns. The store rings `jobsAdded` itself
/// whenever a commit makes a job runnable (an enqueue, a replay, a cancel that unblocks a serial key, a finish,
/// a rescue), so this process's idle workers start at once.
public protocol JobQueue: Sendable {
    /// Attempts, lease length and retry rule.
    var options: StoreOptions { get }
    /// Rung after every commit that may have made a job runnable.
    var jobsAdded: Doorbell { get }

    /// Adds jobs, and the delivery that asked for them, in one commit. A job whose dedupe key exists (live or
    /// pruned) is not added again: the existing one is returned with `created == false`.
    func enqueue(_ jobs: [NewJob], delivery: NewDelivery?) async throws -> EnqueueResult

    /// Adds each job only if the job its `requiresDedupeKey` names exists, in one commit, linked to
    /// `deliveryID`. Returns the jobs added or found; those whose prerequisite is missing are left out.
    func enqueue(_ jobs: [ConditionalJob], deliveryID: Int64?) async throws -> [EnqueuedJob]

    /// Claims up to `limit` due jobs for `owner` with a lease, counting the attempt. A job is due when its time
    /// has come, no earlier job of its serial key is queued or running, and no job of its serial key is running:
    /// a learner's changes to one course happen one at a time, in the order they were created.
    func claim(owner: String, limit: Int) async throws -> [ClaimedJob]

    /// Records an attempt's outcome and moves the job on (succeeded; queued again after a backoff or the server's
    /// Retry-After; failed), then claims up to `limit` more jobs for the same owner in the same commit. The state
    /// is `nil` when the lease was no longer this worker's (it expired and the job was rescued): then nothing
    /// about the job changes.
    func finish(_ claimed: ClaimedJob, outcome: HandlerOutcome, thenClaim limit: Int) async throws
        -> (state: JobState?, next: [ClaimedJob])

    /// Keeps a long attempt's lease alive. False when the lease is no longer this worker's.
    func extendLease(_ claimed: ClaimedJob) async throws -> Bool

    /// Crash rescue: running jobs whose lease has expired go back to `queued`, due now. The attempt they were on
    /// counts; a job that has used all its attempts this way fails instead. Returns how many were rescued.
    func rescueExpiredLeases() async throws -> Int

    /// Graceful shutdown: jobs held by owners starting with `ownerPrefix` go back to `queued`, due now, and the
    /// interrupted attempt does not count. Returns how many.
    func releaseLeases(ownerPrefix: String) async throws -> Int

    /// Deletes up to `limit` succeeded jobs (and their attempts) finished more than `retention` ago. Each leaves
    /// a tombstone with its dedupe key, so exactly-once still holds for older facts. Returns how many.
    func pruneSucceeded(olderThan retention: Duration, limit: Int) async throws -> Int
}

extension JobQueue {
    public func enqueue(_ jobs: [NewJob]) async throws -> EnqueueResult {
        try await enqueue(jobs, delivery: nil)
    }

    public func claim(owner: String) async throws -> [ClaimedJob] {
        try await claim(owner: owner, limit: 1)
    }

    @discardableResult
    public func finish(_ claimed: ClaimedJob, outcome: HandlerOutcome) async throws -> JobState? {
        try await finish(claimed, outcome: outcome, thenClaim: 0).state
    }

    @discardableResult
    public func pruneSucceeded(olderThan retention: Duration) async throws -> Int {
        try await pruneSucceeded(olderThan: retention, limit: 1000)
    }
}
