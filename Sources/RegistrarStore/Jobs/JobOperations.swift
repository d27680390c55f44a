import Foundation
import GRDB
import RegistrarCore

/// What an operator's replay or cancel did, job by job.
public struct OperationReport: Sendable, Equatable {
    public struct Refusal: Sendable, Equatable {
        public var jobID: Int64
        public var reason: String
    }
    public struct Superseded: Sendable, Equatable {
        public var jobID: Int64
        /// The later succeeded unenroll that made running this job wrong.
        public var byJobID: Int64
    }
    /// Jobs changed (or, in a dry run, that would be).
    public var applied: [Int64] = []
    public var superseded: [Superseded] = []
    public var refused: [Refusal] = []
    public var dryRun = false
}

extension RegistrarStore {
    /// Replays jobs by id: attempts reset, due now. States where a replay makes no sense are refused with the
    /// reason; an `enroll` that a later succeeded `unenroll` of the same learner and course has overtaken
    /// becomes `superseded` instead of running, so a replay never undoes a later change.
    public func replay(ids: [Int64], actor: String, dryRun: Bool = false) async throws -> OperationReport {
        let now = clock.now()
        let report = try await write { db -> OperationReport in
            var report = OperationReport(dryRun: dryRun)
            for id in ids {
                guard let job = try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else {
                    report.refused.append(.init(jobID: id, reason: "no job \(id)"))
                    continue
                }
                try Self.replay(job, actor: actor, dryRun: dryRun, now: now, report: &report, in: db)
            }
            return report
        }
        if !report.applied.isEmpty { jobsAdded.ring() }
        return report
    }

    /// Replays every failed job matching the filter (`jobs replay --failed [--kind] [--since]`).
    public func replayFailed(kind: JobKind?, since: Date?, actor: String, dryRun: Bool = false) async throws -> OperationReport {
        let now = clock.now()
        let report = try await write { db -> OperationReport in
            var report = OperationReport(dryRun: dryRun)
            var sql = "SELECT * FROM jobs WHERE state = 'failed'"
            var arguments: StatementArguments = []
            if let kind { sql += " AND kind = ?"; arguments += [kind.rawValue] }
            if let since { sql += " AND updated_at >= ?"; arguments += [since] }
            for job in try Job.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments) {
                try Self.replay(job, actor: actor, dryRun: dryRun, now: now, report: &report, in: db)
            }
            return report
        }
        if !report.applied.isEmpty { jobsAdded.ring() }
        return report
    }

    public func cancel(ids: [Int64], actor: String) async throws -> OperationReport {
        let now = clock.now()
        return try await write { db -> OperationReport in
            var report = OperationReport()
            for id in ids {
                guard let job = try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else {
                    report.refused.append(.init(jobID: id, reason: "no job \(id)"))
                    continue
                }
                switch job.state {
                case .queued, .failed:
                    try db.execute(sql: """
                        UPDATE jobs SET state = 'cancelled', updated_at = ?, finished_at = ? WHERE id = ?
                        """, arguments: [now, now, id])
                    try Self.audit(actor: actor, action: "cancel", jobID: id, detail: "was \(job.state)", at: now, in: db)
                    report.applied.append(id)
                case .running:
                    report.refused.append(.init(jobID: id, reason: "job \(id) is running; wait for the attempt to finish (or its lease to expire), then cancel"))
                case .succeeded:
                    report.refused.append(.init(jobID: id, reason: "job \(id) already succeeded; its effect has happened (enqueue the opposite job to undo it)"))
                case .cancelled:
                    report.refused.append(.init(jobID: id, reason: "job \(id) is already cancelled"))
                case .superseded:
                    report.refused.append(.init(jobID: id, reason: "job \(id) is superseded; it will not run"))
                }
            }
            return report
        }
    }

    private static func replay(_ job: Job, actor: String, dryRun: Bool, now: Date, report: inout OperationReport,
                               in db: Database) throws {
        switch job.state {
        case .running:
            report.refused.append(.init(jobID: job.id, reason: "job \(job.id) is running now; replay it only if it fails"))
            return
        case .succeeded:
            report.refused.append(.init(jobID: job.id, reason: "job \(job.id) already succeeded; there is nothing to replay"))
            return
        case .superseded:
            report.refused.append(.init(jobID: job.id, reason: "job \(job.id) is superseded by a later change of the same learner and course; enqueue a new job if it is really wanted"))
            return
        case .queued, .failed, .cancelled:
            break
        }
        if job.kind == .enroll, let serialKey = job.serialKey,
           let later = try Int64.fetchOne(db, sql: """
               SELECT MIN(id) FROM (
                   SELECT id FROM jobs WHERE serial_key = ? AND kind = 'unenroll' AND state = 'succeeded' AND id > ?
                   UNION ALL
                   SELECT job_id FROM pruned_jobs WHERE serial_key = ? AND kind = 'unenroll' AND job_id > ?)
               """, arguments: [serialKey, job.id, serialKey, job.id]) {
            report.superseded.append(.init(jobID: job.id, byJobID: later))
            if !dryRun {
                try db.execute(sql: """
                    UPDATE jobs SET state = 'superseded', last_error = ?, updated_at = ?, finished_at = ? WHERE id = ?
                    """, arguments: ["superseded by job \(later): a later unenroll of the same learner and course succeeded",
                                     now, now, job.id])
                try audit(actor: actor, action: "replay", jobID: job.id, detail: "superseded by job \(later)", at: now, in: db)
            }
            return
        }
        report.applied.append(job.id)
        if dryRun { return }
        try db.execute(sql: """
            UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                            finished_at = NULL, updated_at = ?
            WHERE id = ?
            """, arguments: [now, now, job.id])
        try audit(actor: actor, action: "replay", jobID: job.id, detail: "was \(job.state)", at: now, in: db)
    }

    static func audit(actor: String, action: String, jobID: Int64?, detail: String?, at now: Date, in db: Database) throws {
        try db.execute(sql: "INSERT INTO operator_actions (at, actor, action, job_id, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [now, actor, action, jobID, detail])
    }
}
