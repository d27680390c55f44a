import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// The read half of `JobOperations`: what `jobs list|show|stats` and the admin API show.
extension SQLiteStore {
    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        try await read { db in
            // A state or a kind alone: one range of jobs_kind_state per kind and state, each already newest first,
            // merged here; one query would sort every job of the state.
            if (filter.state == nil) != (filter.kind == nil), filter.text == nil, filter.since == nil, filter.email == nil,
               filter.course == nil, filter.order == nil, filter.store == nil, filter.deliveryID == nil {
                return try Self.jobsByKindAndState(filter, in: db)
            }
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let state = filter.state { conditions.append("state = ?"); arguments += [state.rawValue] }
            if let kind = filter.kind { conditions.append("kind = ?"); arguments += [kind.rawValue] }
            if let since = filter.since { conditions.append("updated_at >= ?"); arguments += [since] }
            if let text = filter.text {
                conditions.append("(instr(source, ?) > 0 OR instr(dedupe_key, ?) > 0 OR instr(IFNULL(serial_key, ''), ?) > 0)")
                arguments += [text, text, text]
            }
            // A learner's jobs are a range of jobs_learner, an order's a range of the dedupe keys, a delivery's
            // listed on its row: each search reads the few rows it names however many jobs the table holds.
            if let email = filter.email, let course = filter.course {
                conditions.append("serial_key = ?")
                arguments += [SerialKey.enrollment(email: email, courseID: course)]
            } else if let email = filter.email {
                let range = JobSearchKeys.learner(email: email)
                conditions.append("serial_key >= ? AND serial_key < ?")
                arguments += [range.lower, range.upper]
            } else if let course = filter.course {
                // Not indexed (an index would cost every intake commit): read newest first, within the newest
                // `JobFilter.courseWindow` jobs, so a course with few jobs costs a bounded read, not the table.
                conditions.append("serial_key IS NOT NULL AND substr(serial_key, instr(serial_key, '|') + 1) = ?")
                conditions.append("id > (SELECT IFNULL(MAX(id), 0) FROM jobs) - ?")
                arguments += [course, JobFilter.courseWindow]
            }
            var source = "jobs"
            for prefix in [filter.order.map(JobSearchKeys.order), filter.store.map(JobSearchKeys.store)].compactMap({ $0 }) {
                let range = JobSearchKeys.range(prefix: prefix)
                conditions.append("dedupe_key >= ? AND dedupe_key < ?")
                arguments += [range.lower, range.upper]
                // A store holding most of the table is read newest first and stopped at a page; a small range is
                // read from the key index and sorted. Which one, the index's own count of the range says.
                if filter.store != nil, filter.order == nil, filter.email == nil, filter.deliveryID == nil,
                   try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE dedupe_key >= ? AND dedupe_key < ? LIMIT 5001)",
                                    arguments: [range.lower, range.upper]) ?? 0 > 5000 {
                    source = "jobs NOT INDEXED"
                }
            }
            if let delivery = filter.deliveryID {
                conditions.append("id IN (SELECT value FROM json_each((SELECT job_ids FROM deliveries WHERE id = ?)))")
                arguments += [delivery]
            }
            if let before = filter.beforeID { conditions.append("id < ?"); arguments += [before] }
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            arguments += [filter.limit]
            return try JobRecord.fetchAll(db, sql: "SELECT * FROM \(source)\(whereClause) ORDER BY id DESC LIMIT ?",
                                          arguments: arguments).map(\.job)
        }
    }

    /// The kinds present, one index seek each (a skip scan of jobs_kind_state), not a read of the whole index.
    private static func kindsPresent(in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            WITH RECURSIVE k(kind) AS (SELECT MIN(kind) FROM jobs
                                       UNION ALL SELECT (SELECT MIN(kind) FROM jobs WHERE kind > k.kind) FROM k WHERE k.kind IS NOT NULL)
            SELECT kind FROM k WHERE kind IS NOT NULL
            """)
    }

    /// Newest first, the jobs of one kind (every state) or one state (every kind).
    private static func jobsByKindAndState(_ filter: JobFilter, in db: Database) throws -> [Job] {
        let kinds = try filter.kind.map { [$0.rawValue] } ?? Self.kindsPresent(in: db)
        let states = filter.state.map { [$0.rawValue] } ?? JobState.allCases.map(\.rawValue)
        var found: [Job] = []
        for kind in kinds {
            for state in states {
                found += try JobRecord.fetchAll(db.cachedStatement(sql: """
                    SELECT * FROM jobs INDEXED BY jobs_kind_state WHERE kind = ? AND state = ? AND id < ? ORDER BY id DESC LIMIT ?
                    """), arguments: [kind, state, filter.beforeID ?? Int64.max, max(0, filter.limit)]).map(\.job)
            }
        }
        return Array(found.sorted { $0.id > $1.id }.prefix(max(0, filter.limit)))
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

    public func finishedCounts(since: Date) async throws -> (succeeded: Int, failed: Int) {
        try await read { db in
            // Both from partial or state-led indexes: succeeded by finish time, failed within the state.
            // The planner would take jobs_due (state) and read every succeeded row; the partial index counts a day.
            let succeeded = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM jobs INDEXED BY jobs_succeeded WHERE state = 'succeeded' AND finished_at >= ?
                """, arguments: [since]) ?? 0
            let failed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'failed' AND updated_at >= ?",
                                          arguments: [since]) ?? 0
            return (succeeded, failed)
        }
    }

    public func failureSummary(limit: Int) async throws -> [FailureGroups.Failure] {
        try await read { db in
            // One row per distinct error, counted where the jobs are: a few hundred rows, not every failed job.
            try Row.fetchAll(db, sql: """
                SELECT kind, last_http_status, last_error, COUNT(*) AS n, MIN(updated_at) AS oldest, MAX(updated_at) AS newest,
                       MAX(id) AS newest_id
                FROM jobs WHERE state = 'failed' GROUP BY kind, last_http_status, last_error ORDER BY n DESC LIMIT ?
                """, arguments: [limit]).map { row in
                FailureGroups.Failure(id: row["newest_id"], kind: row["kind"], httpStatus: row["last_http_status"], error: row["last_error"],
                                      updatedAt: row["newest"], count: row["n"], oldest: row["oldest"])
            }
        }
    }

    public func stateCounts() async throws -> QueueStats {
        let now = clock.now()
        return try await read { db in
            // Every state but succeeded counted per kind, one small range of jobs_kind_state each (kinds by a skip
            // scan); succeeded, most of the table, as the table's count less the others: no read of a million entries.
            let kinds = try Self.kindsPresent(in: db)
            var counts: [QueueStats.Count] = []
            for kind in kinds {
                for state in JobState.allCases where state != .succeeded {
                    let count = try Int.fetchOne(db.cachedStatement(sql: """
                        SELECT COUNT(*) FROM jobs INDEXED BY jobs_kind_state WHERE kind = ? AND state = ?
                        """), arguments: [kind, state.rawValue]) ?? 0
                    if count > 0 { counts.append(QueueStats.Count(kind: JobKind(rawValue: kind), state: state, count: count)) }
                }
            }
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0
            let succeeded = total - counts.reduce(0) { $0 + $1.count }
            if succeeded > 0 { counts.append(QueueStats.Count(kind: QueueStats.allKinds, state: .succeeded, count: succeeded)) }
            let oldestDue = try Date.fetchOne(db, sql: "SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= ?", arguments: [now])
            return QueueStats(counts: counts, oldestQueuedAge: nil,
                              oldestDueAge: oldestDue.map { .milliseconds(Int64(max(0, now.timeIntervalSince($0)) * 1000)) })
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
