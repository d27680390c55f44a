import Foundation
import RegistrarCore

/// What operators do with jobs: look, replay, cancel. Every replay and cancel is audited under `actor`.
public protocol JobOperations: Sendable {
    /// Newest first.
    func jobs(_ filter: JobFilter) async throws -> [Job]
    func job(id: Int64) async throws -> Job?
    /// The job with every attempt and operator action.
    func jobDetail(id: Int64) async throws -> JobDetail?
    func attempts(ofJob id: Int64) async throws -> [JobAttempt]
    func stats() async throws -> QueueStats
    /// Counts by state for a glance at a big table (the console's overview): every state but succeeded by kind,
    /// succeeded as one count of kind `QueueStats.allKinds`; the oldest due job's age.
    func stateCounts() async throws -> QueueStats
    /// Failed jobs by kind, HTTP status and error, the biggest first: one entry per distinct error with its
    /// count, oldest and newest time and newest job.
    func failureSummary(limit: Int) async throws -> [FailureGroups.Failure]
    /// Jobs that succeeded, and jobs that failed for good, at or after `since` (the console's last 24 hours).
    func finishedCounts(since: Date) async throws -> (succeeded: Int, failed: Int)

    /// Replays jobs by id: attempts reset, due now. States where a replay makes no sense are refused with the
    /// reason; an `enroll` that a later succeeded `unenroll` of the same serial key has overtaken becomes
    /// `superseded` instead of running, so a replay never undoes a later change.
    func replay(ids: [Int64], actor: String, dryRun: Bool) async throws -> OperationReport
    /// Replays every failed job of `kind` (all kinds when nil) that failed at or after `since`.
    func replayFailed(kind: JobKind?, since: Date?, actor: String, dryRun: Bool) async throws -> OperationReport
    /// Cancels queued and failed jobs so they never run; refuses the rest with the reason.
    func cancel(ids: [Int64], actor: String) async throws -> OperationReport
}

extension JobOperations {
    public func replay(ids: [Int64], actor: String) async throws -> OperationReport {
        try await replay(ids: ids, actor: actor, dryRun: false)
    }

    public func replayFailed(kind: JobKind?, since: Date?, actor: String) async throws -> OperationReport {
        try await replayFailed(kind: kind, since: since, actor: actor, dryRun: false)
    }
}
