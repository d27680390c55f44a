import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// The read half of `JobOperations`: what `jobs list|show|stats` and the admin API show.
extension SQLiteStore {
    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let state = filter.state { conditions.append("state = ?"); arguments += [state.rawValue] }
            if let kind = filter.kind { conditions.append("kind = ?"); arguments += [kind.rawValue] }
            if let since = filter.since { conditions.append("updated_at >= ?"); arguments += [since] }
            if let text = filter.text {
                conditions.append("(instr(source, ?) > 0 OR instr(dedupe_key, ?) > 0 OR instr(IFNULL(serial_key, ''), ?) > 0)")
                arguments += [text, text, text]
            }
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            arguments += [filter.limit]
            return try JobRecord.fetchAll(db, sql: "SELECT * FROM jobs\(whereClause) ORDER BY id DESC LIMIT ?",
                                          arguments: arguments).map(\.job)
        }
    }

    public func job(id: Int64) async throws -> Job? {
        try await read { db in try JobTable.fetch(id: id, in: db) }
    }

    public func jobDetail(id: Int64) async throws -> JobDetail? {
        try await read { db in
            guard let job = try JobTable.fetch(id: id, in: db) else { return nil }
            let attempts = try AttemptRecord.fetchAll(db, sql: "SELECT * FROM job_attempts WHERE job_id = ? ORDER BY id",
                                                      arguments: [id]).map(\.attempt)
            let actions = try ActionRecord.fetchAll(db, sql: "SELECT * FROM operator_actions WHERE job_id = ? ORDER BY id",
                                                    arguments: [id]).map(\.action)
            return JobDetail(job: job, attempts: attempts, actions: actions)
        }
    }

    public func attempts(ofJob id: Int64) async throws -> [JobAttempt] {
        try await read { db in
            try AttemptRecord.fetchAll(db, sql: "SELECT * FROM job_attempts WHERE job_id = ? ORDER BY id", arguments: [id])
                .map(\.attempt)
        }
    }

    public func stats() async throws -> QueueStats {
        let now = clock.now()
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state")
            let counts = rows.compactMap { row -> QueueStats.Count? in
                guard let state = JobState(rawValue: row["state"]) else { return nil }
                return QueueStats.Count(kind: JobKind(rawValue: row["kind"]), state: state, count: row["n"])
            }
            let oldestQueued = try Date.fetchOne(db, sql: "SELECT MIN(created_at) FROM jobs WHERE state = 'queued'")
            let oldestDue = try Date.fetchOne(db, sql: "SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= ?",
                                              arguments: [now])
            func age(_ date: Date?) -> Duration? {
                date.map { .milliseconds(Int64(max(0, now.timeIntervalSince($0)) * 1000)) }
            }
            return QueueStats(counts: counts, oldestQueuedAge: age(oldestQueued), oldestDueAge: age(oldestDue))
        }
    }
}
