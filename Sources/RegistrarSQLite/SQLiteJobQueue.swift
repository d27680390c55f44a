import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: JobQueue {
    public func enqueue(_ jobs: [NewJob], delivery: NewDelivery?) async throws -> EnqueueResult {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let row = delivery.map { DeliveryRow($0, receivedAt: now) }
        let result = try await write { db -> EnqueueResult in
            var deliveryID: Int64?
            if let row { deliveryID = try DeliveryTable.record(row, in: db) }
            let enqueued = try JobTable.insert(jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
            if let deliveryID { try DeliveryTable.setJobs(enqueued.map(\.id), ofDelivery: deliveryID, in: db) }
            return EnqueueResult(deliveryID: deliveryID, jobs: enqueued)
        }
        jobsMayRun(result.jobs.contains(where: \.created))
        return result
    }

    public func enqueue(_ jobs: [ConditionalJob], deliveryID: Int64?) async throws -> [EnqueuedJob] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let enqueued = try await write { db -> [EnqueuedJob] in
            let wanted = try jobs.filter { try JobTable.existingJob(dedupeKey: $0.requiresDedupeKey, in: db) != nil }
            return try JobTable.insert(wanted.map(\.job), deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now,
                                       in: db)
        }
        jobsMayRun(enqueued.contains(where: \.created))
        return enqueued
    }

    public func claim(owner: String, limit: Int) async throws -> [ClaimedJob] {
        let now = clock.now()
        let leaseUntil = now.addingTimeInterval(options.lease.seconds)
        return try await write { db -> [ClaimedJob] in
            try Self.claim(owner: owner, limit: limit, now: now, leaseUntil: leaseUntil, in: db)
        }
    }

    private static func claim(owner: String, limit: Int, now: Date, leaseUntil: Date, in db: Database) throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let nowText = StoredDate.text(now)
        // Head of its key: no earlier job of the key still open (jobs_serial_open), and none of the key running at
        // all (jobs_serial_running), which an operator's replay of an earlier job would otherwise slip past.
        let ids = try Int64.fetchAll(db.cachedStatement(sql: """
            SELECT j.id FROM jobs j
            WHERE j.state = 'queued' AND j.run_at <= ?
              AND (j.serial_key IS NULL OR (
                    NOT EXISTS (SELECT 1 FROM jobs p
                                WHERE p.serial_key = j.serial_key AND p.id < j.id AND p.state IN ('queued', 'running'))
                    AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.serial_key = j.serial_key AND r.state = 'running')))
            ORDER BY j.run_at, j.id
            LIMIT ?
            """), arguments: [nowText, limit])
        var claimed: [ClaimedJob] = []
        for id in ids {
            guard let job = try JobRecord.fetchOne(db.cachedStatement(sql: """
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?,
                                updated_at = ?
                WHERE id = ?
                RETURNING *
                """), arguments: [owner, StoredDate.text(leaseUntil), nowText, id])?.job else { continue }
            try db.cachedStatement(sql: """
                INSERT INTO job_attempts (job_id, attempt, worker, started_at, outcome) VALUES (?, ?, ?, ?, 'running')
                """).execute(arguments: [id, job.attempts, owner, nowText])
            claimed.append(ClaimedJob(job: job, attemptID: db.lastInsertedRowID, owner: owner, startedAt: now))
        }
        return claimed
    }

    public func finish(_ claimed: ClaimedJob, outcome: HandlerOutcome, thenClaim limit: Int) async throws
        -> (state: JobState?, next: [ClaimedJob]) {
        let now = clock.now()
        let leaseUntil = now.addingTimeInterval(options.lease.seconds)
        let step = options.retry.nextStep(for: outcome, attempts: claimed.job.attempts,
                                          maxAttempts: claimed.job.maxAttempts, now: now, unitRandom: random.next())
        let result = try await write { db -> (state: JobState?, next: [ClaimedJob]) in
            let state = try Self.recordOutcome(of: claimed, outcome: outcome, step: step, now: now, in: db)
            return (state, try Self.claim(owner: claimed.owner, limit: limit, now: now, leaseUntil: leaseUntil, in: db))
        }
        // A finished job may unblock the next one of its serial key.
        jobsMayRun(result.state != nil)
        return result
    }

    private static func recordOutcome(of claimed: ClaimedJob, outcome: HandlerOutcome, step: NextStep, now: Date,
                                      in db: Database) throws -> JobState? {
        let nowText = StoredDate.text(now)
        let durationMS = max(0, Int((now.timeIntervalSince(claimed.startedAt) * 1000).rounded()))
        let stillOurs = try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?
            """), arguments: [claimed.job.id, claimed.owner, claimed.job.attempts]) ?? false
        guard stillOurs else {
            try db.cachedStatement(sql: """
                UPDATE job_attempts SET duration_ms = ?, outcome = ?, http_status = ?,
                       error = 'lease lost before the attempt finished; its result was not applied: ' || ?
                WHERE id = ?
                """).execute(arguments: [durationMS, outcome.label, outcome.httpStatus, outcome.message ?? "", claimed.attemptID])
            return nil
        }
        try db.cachedStatement(sql: """
            UPDATE job_attempts SET duration_ms = ?, outcome = ?, http_status = ?, error = ? WHERE id = ?
            """).execute(arguments: [durationMS, outcome.label, outcome.httpStatus,
                                     { if case .success = outcome { return nil as String? } else { return outcome.message } }(),
                                     claimed.attemptID])
        switch step {
        case .succeed(let detail):
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = 'succeeded', result = ?, last_http_status = ?, lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = ?, finished_at = ?
                WHERE id = ?
                """).execute(arguments: [detail, outcome.httpStatus, nowText, nowText, claimed.job.id])
            return .succeeded
        case .retry(let at, let reason):
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = 'queued', run_at = ?, last_error = ?, last_http_status = ?,
                                lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                WHERE id = ?
                """).execute(arguments: [StoredDate.text(at), reason, outcome.httpStatus, nowText, claimed.job.id])
            return .queued
        case .fail(let reason):
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = 'failed', last_error = ?, last_http_status = ?, lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = ?, finished_at = ?
                WHERE id = ?
                """).execute(arguments: [reason, outcome.httpStatus, nowText, nowText, claimed.job.id])
            return .failed
        }
    }

    public func extendLease(_ claimed: ClaimedJob) async throws -> Bool {
        let now = clock.now()
        let until = now.addingTimeInterval(options.lease.seconds)
        return try await write { db in
            try db.cachedStatement(sql: """
                UPDATE jobs SET lease_expires_at = ?, updated_at = ?
                WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?
                """).execute(arguments: [StoredDate.text(until), StoredDate.text(now), claimed.job.id, claimed.owner,
                                         claimed.job.attempts])
            return db.changesCount > 0
        }
    }

    @discardableResult
    public func rescueExpiredLeases() async throws -> Int {
        let now = clock.now()
        let rescued = try await write { db -> Int in
            try db.execute(sql: """
                UPDATE job_attempts SET outcome = 'lease_expired',
                       error = 'lease expired: the worker stopped or crashed during the attempt'
                WHERE outcome = 'running'
                  AND job_id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < ?)
                """, arguments: [now])
            try db.execute(sql: """
                UPDATE jobs SET
                    state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                    finished_at = CASE WHEN attempts >= max_attempts THEN ? ELSE NULL END,
                    last_error = CASE WHEN attempts >= max_attempts
                        THEN 'attempts exhausted: the lease of the last attempt expired (worker stopped or crashed)'
                        ELSE 'lease expired: the worker stopped or crashed during the attempt' END,
                    run_at = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                WHERE state = 'running' AND lease_expires_at < ?
                """, arguments: [now, now, now, now])
            return db.changesCount
        }
        jobsMayRun(rescued > 0)
        return rescued
    }

    @discardableResult
    public func releaseLeases(ownerPrefix: String) async throws -> Int {
        let now = clock.now()
        let released = try await write { db -> Int in
            try db.execute(sql: """
                UPDATE job_attempts SET outcome = 'released', error = 'released at shutdown before it finished'
                WHERE outcome = 'running' AND substr(worker, 1, length(?1)) = ?1
                """, arguments: [ownerPrefix])
            try db.execute(sql: """
                UPDATE jobs SET state = 'queued', attempts = MAX(0, attempts - 1), run_at = ?2, lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = ?2
                WHERE state = 'running' AND substr(lease_owner, 1, length(?1)) = ?1
                """, arguments: [ownerPrefix, now])
            return db.changesCount
        }
        jobsMayRun(released > 0)
        return released
    }

    @discardableResult
    public func pruneSucceeded(olderThan retention: Duration, limit: Int) async throws -> Int {
        let cutoff = clock.now().addingTimeInterval(-retention.seconds)
        return try await write { db -> Int in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM jobs WHERE state = 'succeeded' AND finished_at < ? LIMIT ?
                """, arguments: [cutoff, limit])
            guard !ids.isEmpty else { return 0 }
            let list = ids.map(String.init).joined(separator: ",")
            try db.execute(sql: """
                INSERT OR IGNORE INTO pruned_jobs (dedupe_key, job_id, kind, serial_key, finished_at)
                SELECT dedupe_key, id, kind, serial_key, finished_at FROM jobs WHERE id IN (\(list))
                """)
            try db.execute(sql: "DELETE FROM jobs WHERE id IN (\(list))")
            return db.changesCount
        }
    }
}
