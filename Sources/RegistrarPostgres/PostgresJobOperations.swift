import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: JobOperations {
    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        try await read { connection, _ in
            var q = QueryBuilder()
            var conditions: [String] = []
            if let state = filter.state { conditions.append("state = \(q.bind(state.rawValue))") }
            if let kind = filter.kind { conditions.append("kind = \(q.bind(kind.rawValue))") }
            if let since = filter.since { conditions.append("updated_at >= \(q.bind(since))") }
            if let text = filter.text {
                let t = q.bind(text)
                conditions.append("(strpos(source, \(t)) > 0 OR strpos(dedupe_key, \(t)) > 0 OR strpos(coalesce(serial_key, ''), \(t)) > 0)")
            }
            if let email = filter.email, let course = filter.course {
                conditions.append("serial_key = \(q.bind(SerialKey.enrollment(email: email, courseID: course)))")
            } else if let email = filter.email {
                let range = JobSearchKeys.learner(email: email)
                conditions.append("serial_key >= \(q.bind(range.lower)) AND serial_key < \(q.bind(range.upper))")
            } else if let course = filter.course {
                // As on SQLite: a course is searched among the newest `JobFilter.courseWindow` jobs.
                conditions.append("serial_key IS NOT NULL AND substr(serial_key, strpos(serial_key, '|') + 1) = \(q.bind(course))")
                conditions.append("id > (SELECT coalesce(max(id), 0) FROM jobs) - \(q.bind(Int64(JobFilter.courseWindow)))")
            }
            for prefix in [filter.order.map(JobSearchKeys.order), filter.store.map(JobSearchKeys.store)].compactMap({ $0 }) {
                let range = JobSearchKeys.range(prefix: prefix)
                conditions.append("dedupe_key >= \(q.bind(range.lower)) AND dedupe_key < \(q.bind(range.upper))")
            }
            if let delivery = filter.deliveryID {
                conditions.append("id = ANY ((SELECT job_ids FROM deliveries WHERE id = \(q.bind(delivery)))::bigint[])")
            }
            if let before = filter.beforeID { conditions.append("id < \(q.bind(before))") }
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let limit = q.bind(Int64(max(0, filter.limit)))
            return try await connection.query(q.query("SELECT \(Columns.job) FROM jobs\(whereClause) ORDER BY id DESC LIMIT \(limit)"),
                                              logger: self.logger).all(Job.init(row:))
        }
    }

    public func job(id: Int64) async throws -> Job? {
        try await read { connection, _ in try await self.fetchJob(id: id, on: connection) }
    }

    func fetchJob(id: Int64, lock: Bool = false, on connection: PostgresConnection) async throws -> Job? {
        try await connection.query("SELECT \(unescaped: Columns.job) FROM jobs WHERE id = \(id)\(unescaped: lock ? " FOR UPDATE" : "")",
                                   logger: logger).all(Job.init(row:)).first
    }

    public func jobDetail(id: Int64) async throws -> JobDetail? {
        try await read { connection, _ in
            guard let job = try await self.fetchJob(id: id, on: connection) else { return nil }
            let attempts = try await connection.query("SELECT * FROM job_attempts WHERE job_id = \(id) ORDER BY id",
                                                      logger: self.logger).all(JobAttempt.init(row:))
            let actions = try await connection.query("SELECT * FROM operator_actions WHERE job_id = \(id) ORDER BY id",
                                                     logger: self.logger).all(OperatorAction.init(row:))
            return JobDetail(job: job, attempts: attempts, actions: actions)
        }
    }

    public func attempts(ofJob id: Int64) async throws -> [JobAttempt] {
        try await read { connection, _ in
            try await connection.query("SELECT * FROM job_attempts WHERE job_id = \(id) ORDER BY id", logger: self.logger)
                .all(JobAttempt.init(row:))
        }
    }

    public func stats() async throws -> QueueStats {
        try await read { connection, now in
            let counts = try await self.counts(on: connection)
            let oldestQueued = try await connection.query("SELECT min(created_at) FROM jobs WHERE state = 'queued'",
                                                          logger: self.logger).first(Date?.self) ?? nil
            let oldestDue = try await self.oldestDue(now: now, on: connection)
            return QueueStats(counts: counts, oldestQueuedAge: oldestQueued.map { Self.age(of: $0, now: now) },
                              oldestDueAge: oldestDue.map { Self.age(of: $0, now: now) })
        }
    }

    /// As `stats`, but succeeded jobs are one count of every kind (`QueueStats.allKinds`), as the protocol says.
    public func stateCounts() async throws -> QueueStats {
        try await read { connection, now in
            let all = try await self.counts(on: connection)
            var counts = all.filter { $0.state != .succeeded }
            let succeeded = all.filter { $0.state == .succeeded }.reduce(0) { $0 + $1.count }
            if succeeded > 0 { counts.append(QueueStats.Count(kind: QueueStats.allKinds, state: .succeeded, count: succeeded)) }
            let oldestDue = try await self.oldestDue(now: now, on: connection)
            return QueueStats(counts: counts, oldestQueuedAge: nil, oldestDueAge: oldestDue.map { Self.age(of: $0, now: now) })
        }
    }

    private func counts(on connection: PostgresConnection) async throws -> [QueueStats.Count] {
        let rows = try await connection.query("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state ORDER BY kind, state",
                                              logger: logger)
        var counts: [QueueStats.Count] = []
        for try await (kind, state, count) in rows.decode((String, String, Int64).self) {
            guard let state = JobState(rawValue: state) else { continue }
            counts.append(QueueStats.Count(kind: JobKind(rawValue: kind), state: state, count: Int(count)))
        }
        return counts
    }

    private func oldestDue(now: Date, on connection: PostgresConnection) async throws -> Date? {
        try await connection.query("SELECT min(run_at) FROM jobs WHERE state = 'queued' AND run_at <= \(now)", logger: logger)
            .first(Date?.self) ?? nil
    }

    private static func age(of date: Date, now: Date) -> Duration {
        .milliseconds(Int64(max(0, now.timeIntervalSince(date)) * 1000))
    }

    public func failureSummary(limit: Int) async throws -> [FailureGroups.Failure] {
        try await read { connection, _ in
            try await connection.query("""
                SELECT kind, last_http_status, last_error, count(*) AS n, min(updated_at) AS oldest, max(updated_at) AS newest,
                       max(id) AS newest_id
                FROM jobs WHERE state = 'failed' GROUP BY kind, last_http_status, last_error ORDER BY n DESC LIMIT \(limit)
                """, logger: self.logger).all { row in
                let r = row.makeRandomAccess()
                return FailureGroups.Failure(id: try r.value("newest_id"), kind: try r.value("kind"),
                                             httpStatus: try r.value("last_http_status", as: Int32?.self).map(Int.init),
                                             error: try r.value("last_error"), updatedAt: try r.value("newest"),
                                             count: Int(try r.value("n", as: Int64.self)), oldest: try r.value("oldest"))
            }
        }
    }

    public func finishedCounts(since: Date) async throws -> (succeeded: Int, failed: Int) {
        try await read { connection, _ in
            let succeeded = try await connection.query("""
                SELECT count(*) FROM jobs WHERE state = 'succeeded' AND finished_at >= \(since)
                """, logger: self.logger).first(Int64.self) ?? 0
            let failed = try await connection.query("SELECT count(*) FROM jobs WHERE state = 'failed' AND updated_at >= \(since)",
                                                    logger: self.logger).first(Int64.self) ?? 0
            return (Int(succeeded), Int(failed))
        }
    }

    public func replay(ids: [Int64], actor: String, dryRun: Bool) async throws -> OperationReport {
        let report = try await transaction { connection, now in
            var report = OperationReport(dryRun: dryRun)
            for id in ids {
                guard let job = try await self.fetchJob(id: id, lock: !dryRun, on: connection) else {
                    report.refused.append(.init(jobID: id, reason: OperatorRules.unknownJob(id)))
                    continue
                }
                try await self.replay(job, actor: actor, dryRun: dryRun, now: now, report: &report, on: connection)
            }
            try await self.notifyIf(!report.applied.isEmpty && !dryRun, on: connection)
            return report
        }
        jobsMayRun(!report.applied.isEmpty && !dryRun)
        return report
    }

    public func replayFailed(kind: JobKind?, since: Date?, actor: String, dryRun: Bool) async throws -> OperationReport {
        let report = try await transaction { connection, now in
            var report = OperationReport(dryRun: dryRun)
            var q = QueryBuilder()
            var sql = "SELECT \(Columns.job) FROM jobs WHERE state = 'failed'"
            if let kind { sql += " AND kind = \(q.bind(kind.rawValue))" }
            if let since { sql += " AND updated_at >= \(q.bind(since))" }
            sql += " ORDER BY id" + (dryRun ? "" : " FOR UPDATE")
            for job in try await connection.query(q.query(sql), logger: self.logger).all(Job.init(row:)) {
                try await self.replay(job, actor: actor, dryRun: dryRun, now: now, report: &report, on: connection)
            }
            try await self.notifyIf(!report.applied.isEmpty && !dryRun, on: connection)
            return report
        }
        jobsMayRun(!report.applied.isEmpty && !dryRun)
        return report
    }

    public func cancel(ids: [Int64], actor: String) async throws -> OperationReport {
        let report = try await transaction { connection, now in
            var report = OperationReport()
            for id in ids {
                guard let job = try await self.fetchJob(id: id, lock: true, on: connection) else {
                    report.refused.append(.init(jobID: id, reason: OperatorRules.unknownJob(id)))
                    continue
                }
                if let refusal = OperatorRules.cancelRefusal(jobID: id, state: job.state) {
                    report.refused.append(.init(jobID: id, reason: refusal))
                    continue
                }
                try await connection.query("""
                    UPDATE jobs SET state = 'cancelled', updated_at = \(now), finished_at = \(now) WHERE id = \(id)
                    """, logger: self.logger)
                try await self.audit(actor: actor, action: "cancel", jobID: id, detail: "was \(job.state)", at: now, on: connection)
                report.applied.append(id)
            }
            // A cancelled job no longer holds back the later jobs of its serial key.
            try await self.notifyIf(!report.applied.isEmpty, on: connection)
            return report
        }
        jobsMayRun(!report.applied.isEmpty)
        return report
    }

    private func replay(_ job: Job, actor: String, dryRun: Bool, now: Date, report: inout OperationReport,
                        on connection: PostgresConnection) async throws {
        if let refusal = OperatorRules.replayRefusal(jobID: job.id, state: job.state) {
            report.refused.append(.init(jobID: job.id, reason: refusal))
            return
        }
        if OperatorRules.canBeSuperseded(job.kind), let serialKey = job.serialKey,
           let later = try await connection.query("""
               SELECT min(id) FROM (
                   SELECT id FROM jobs WHERE serial_key = \(serialKey) AND kind = 'unenroll'
                     AND state IN ('succeeded', 'queued', 'running') AND id > \(job.id)
                   UNION ALL
                   SELECT job_id FROM pruned_jobs WHERE serial_key = \(serialKey) AND kind = 'unenroll' AND job_id > \(job.id)) later
               """, logger: logger).first(Int64?.self) ?? nil {
            report.superseded.append(.init(jobID: job.id, byJobID: later))
            if !dryRun {
                try await connection.query("""
                    UPDATE jobs SET state = 'superseded', last_error = \(OperatorRules.supersededError(by: later)),
                                    updated_at = \(now), finished_at = \(now)
                    WHERE id = \(job.id)
                    """, logger: logger)
                try await audit(actor: actor, action: "replay", jobID: job.id, detail: "superseded by job \(later)", at: now,
                                on: connection)
            }
            return
        }
        report.applied.append(job.id)
        if dryRun { return }
        try await connection.query("""
            UPDATE jobs SET state = 'queued', attempts = 0, run_at = \(now), lease_owner = NULL, lease_expires_at = NULL,
                            finished_at = NULL, updated_at = \(now)
            WHERE id = \(job.id)
            """, logger: logger)
        try await audit(actor: actor, action: "replay", jobID: job.id, detail: "was \(job.state)", at: now, on: connection)
    }

    func audit(actor: String, action: String, jobID: Int64?, detail: String?, at now: Date,
               on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO operator_actions (at, actor, action, job_id, detail) VALUES (\(now), \(actor), \(action), \(jobID), \(detail))
            """, logger: logger)
    }
}
