import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: JobOperations {
    public func replay(ids: [Int64], actor: String, dryRun: Bool) async throws -> OperationReport {
        let now = clock.now()
        let work: @Sendable (Database) throws -> OperationReport = { db in
            var report = OperationReport(dryRun: dryRun)
            for id in ids {
                guard let job = try JobTable.fetch(id: id, in: db) else {
                    report.refused.append(.init(jobID: id, reason: OperatorRules.unknownJob(id)))
                    continue
                }
                try Self.replay(job, actor: actor, dryRun: dryRun, now: now, report: &report, in: db)
            }
            return report
        }
        // A dry run (the console's preview of a page) changes nothing: it reads, and never holds intake's writer.
        let report = dryRun ? try await read(work) : try await write(work)
        jobsMayRun(!report.applied.isEmpty && !dryRun)
        return report
    }

    public func replayFailed(kind: JobKind?, since: Date?, actor: String, dryRun: Bool) async throws -> OperationReport {
        let now = clock.now()
        let report = try await write { db -> OperationReport in
            var report = OperationReport(dryRun: dryRun)
            var sql = "SELECT * FROM jobs WHERE state = 'failed'"
            var arguments: StatementArguments = []
            if let kind { sql += " AND kind = ?"; arguments += [kind.rawValue] }
            if let since { sql += " AND updated_at >= ?"; arguments += [since] }
            for record in try JobRecord.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments) {
                try Self.replay(record.job, actor: actor, dryRun: dryRun, now: now, report: &report, in: db)
            }
            return report
        }
        jobsMayRun(!report.applied.isEmpty && !dryRun)
        return report
    }

    public func cancel(ids: [Int64], actor: String) async throws -> OperationReport {
        let now = clock.now()
        let report = try await write { db -> OperationReport in
            var report = OperationReport()
            for id in ids {
                guard let job = try JobTable.fetch(id: id, in: db) else {
                    report.refused.append(.init(jobID: id, reason: OperatorRules.unknownJob(id)))
                    continue
                }
                if let refusal = OperatorRules.cancelRefusal(jobID: id, state: job.state) {
                    report.refused.append(.init(jobID: id, reason: refusal))
                    continue
                }
                try db.execute(sql: "UPDATE jobs SET state = 'cancelled', updated_at = ?, finished_at = ? WHERE id = ?",
                               arguments: [now, now, id])
                try Self.audit(actor: actor, action: "cancel", jobID: id, detail: "was \(job.state)", at: now, in: db)
                report.applied.append(id)
            }
            return report
        }
        // A cancelled job no longer holds back the later jobs of its serial key.
        jobsMayRun(!report.applied.isEmpty)
        return report
    }

    private static func replay(_ job: Job, actor: String, dryRun: Bool, now: Date, report: inout OperationReport,
                               in db: Database) throws {
        if let refusal = OperatorRules.replayRefusal(jobID: job.id, state: job.state) {
            report.refused.append(.init(jobID: job.id, reason: refusal))
            return
        }
        // OperatorRules.supersedingStates, one partial index each: jobs_unenrolled for the succeeded, jobs_serial_open
        // for the queued and running.
        if OperatorRules.canBeSuperseded(job.kind), let serialKey = job.serialKey,
           let later = try Int64.fetchOne(db.cachedStatement(sql: """
               SELECT MIN(id) FROM (
                   SELECT id FROM jobs WHERE serial_key = ? AND kind = 'unenroll' AND state = 'succeeded' AND id > ?
                   UNION ALL
                   SELECT id FROM jobs WHERE serial_key = ? AND state IN ('queued', 'running') AND kind = 'unenroll' AND id > ?
                   UNION ALL
                   SELECT job_id FROM pruned_jobs WHERE serial_key = ? AND kind = 'unenroll' AND job_id > ?)
               """), arguments: [serialKey, job.id, serialKey, job.id, serialKey, job.id]) {
            report.superseded.append(.init(jobID: job.id, byJobID: later))
            if !dryRun {
                try db.execute(sql: """
                    UPDATE jobs SET state = 'superseded', last_error = ?, updated_at = ?, finished_at = ? WHERE id = ?
                    """, arguments: [OperatorRules.supersededError(by: later), now, now, job.id])
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
