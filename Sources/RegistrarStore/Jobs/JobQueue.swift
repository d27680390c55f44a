import Foundation
import GRDB
import RegistrarCore

/// A job as the enqueue found it: new, or already there under the same dedupe key.
public struct EnqueuedJob: Sendable, Equatable {
    public var id: Int64
    public var dedupeKey: String
    public var created: Bool
    public var state: JobState
}

public struct EnqueueResult: Sendable {
    public var deliveryID: Int64?
    public var jobs: [EnqueuedJob]
}

/// Job table operations that run inside a caller's transaction, so intake can add jobs, record its delivery
/// and update its own bookkeeping all in one commit.
public enum JobTable {
    /// - Parameter knownAbsent: dedupe keys the caller has just looked up, in this transaction, and found on no
    ///   job; their jobs skip the look before inserting.
    public static func insert(_ jobs: [NewJob], deliveryID: Int64?, defaultMaxAttempts: Int, now: Date,
                              knownAbsent: Set<String> = [], in db: Database) throws -> [EnqueuedJob] {
        var result: [EnqueuedJob] = []
        let nowText = StoredDate.text(now)
        for job in jobs {
            // Looking first keeps ids dense (an INSERT that conflicts still spends an AUTOINCREMENT id); the
            // UNIQUE index below stays the guarantee if another process inserts the same key meanwhile.
            if !knownAbsent.contains(job.dedupeKey), let existing = try existingJob(dedupeKey: job.dedupeKey, in: db) {
                result.append(existing)
                continue
            }
            // No RETURNING: SQLite buffers a RETURNING statement's rows in a temporary b-tree, which costs more
            // than the insert itself. A conflict changes no row; an insert's id is the last one inserted.
            try db.cachedStatement(sql: """
                INSERT INTO jobs (kind, state, dedupe_key, serial_key, payload, max_attempts, run_at, source,
                                  delivery_id, created_at, updated_at)
                VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(dedupe_key) DO NOTHING
                """).execute(arguments: [job.kind.rawValue, job.dedupeKey, job.serialKey, job.payload,
                                         job.maxAttempts ?? defaultMaxAttempts, job.runAt.map(StoredDate.text) ?? nowText,
                                         job.source, deliveryID, nowText, nowText])
            if db.changesCount == 1 {
                result.append(EnqueuedJob(id: db.lastInsertedRowID, dedupeKey: job.dedupeKey, created: true, state: .queued))
            } else {
                guard let existing = try existingJob(dedupeKey: job.dedupeKey, in: db) else {
                    throw StoreError.corrupt("dedupe key \(job.dedupeKey) conflicts but no job has it")
                }
                result.append(existing)
            }
        }
        return result
    }

    /// The ids the next `count` jobs inserted will get if nothing takes one first: AUTOINCREMENT gives one more
    /// than the largest id ever used, which `sqlite_sequence` keeps. A guess for the caller to check.
    static func nextIDs(count: Int, in db: Database) throws -> [Int64] {
        let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT seq FROM sqlite_sequence WHERE name = 'jobs'")) ?? 0
        return (0..<Int64(count)).map { last + 1 + $0 }
    }

    /// The job behind a dedupe key, live or pruned (a pruned job succeeded; its tombstone keeps the key).
    static func existingJob(dedupeKey: String, in db: Database) throws -> EnqueuedJob? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT id, state FROM jobs WHERE dedupe_key = ?
            UNION ALL SELECT job_id, 'succeeded' FROM pruned_jobs WHERE dedupe_key = ?
            LIMIT 1
            """), arguments: [dedupeKey, dedupeKey]) else { return nil }
        let stateText: String = row[1]
        return EnqueuedJob(id: row[0], dedupeKey: dedupeKey, created: false, state: JobState(rawValue: stateText) ?? .queued)
    }
}

extension RegistrarStore {
    /// Adds jobs (and the delivery that asked for them) in one transaction. A job whose dedupe key exists
    /// is not added again: the existing one is returned with `created == false`.
    public func enqueue(_ jobs: [NewJob], delivery: NewDelivery? = nil) async throws -> EnqueueResult {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let result = try await write { db -> EnqueueResult in
            var deliveryID: Int64?
            if let delivery { deliveryID = try DeliveryLedger.record(delivery, at: now, in: db) }
            let enqueued = try JobTable.insert(jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
            if let deliveryID { try DeliveryLedger.setJobs(enqueued.map(\.id), ofDelivery: deliveryID, in: db) }
            return EnqueueResult(deliveryID: deliveryID, jobs: enqueued)
        }
        if result.jobs.contains(where: \.created) { jobsAdded.ring() }
        return result
    }

    /// Claims up to `limit` due jobs for `owner` with a lease. A job is due when its time has come and no
    /// earlier job of the same serial key is still queued or running — so a learner's changes to one course
    /// happen one at a time, in the order they were created.
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
        let ids = try Int64.fetchAll(db.cachedStatement(sql: """
            SELECT j.id FROM jobs j
            WHERE j.state = 'queued' AND j.run_at <= ?
              AND (j.serial_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM jobs p
                    WHERE p.serial_key = j.serial_key AND p.id < j.id AND p.state IN ('queued', 'running')))
            ORDER BY j.run_at, j.id
            LIMIT ?
            """), arguments: [nowText, limit])
        var claimed: [ClaimedJob] = []
        for id in ids {
            guard let job = try Job.fetchOne(db.cachedStatement(sql: """
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?,
                                updated_at = ?
                WHERE id = ?
                RETURNING *
                """), arguments: [owner, StoredDate.text(leaseUntil), nowText, id]) else { continue }
            try db.cachedStatement(sql: """
                INSERT INTO job_attempts (job_id, attempt, worker, started_at, outcome) VALUES (?, ?, ?, ?, 'running')
                """).execute(arguments: [id, job.attempts, owner, nowText])
            claimed.append(ClaimedJob(job: job, attemptID: db.lastInsertedRowID, owner: owner, startedAt: now))
        }
        return claimed
    }

    /// Records an attempt's outcome and moves the job on: succeeded, back to `queued` after a backoff (or the
    /// server's Retry-After), or failed. Returns the new state, or `nil` when the lease was no longer this
    /// worker's (it expired and the job was rescued), in which case nothing about the job changes.
    @discardableResult
    public func finish(_ claimed: ClaimedJob, outcome: HandlerOutcome) async throws -> JobState? {
        try await finish(claimed, outcome: outcome, thenClaim: 0).state
    }

    /// `finish`, then claims up to `limit` more jobs for the same owner in the same commit: a busy worker
    /// waits for one flush per job instead of two.
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
        if result.state != nil { jobsAdded.ring() }
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

    /// Keeps a long attempt's lease alive. Returns false when the lease is no longer this worker's.
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

    /// Crash rescue: running jobs whose lease has expired go back to `queued`, due now. The attempt they were
    /// on counts; a job that has used all its attempts this way fails instead, so a job that crashes its
    /// worker every time cannot loop forever.
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
        if rescued > 0 { jobsAdded.ring() }
        return rescued
    }

    /// Graceful shutdown: jobs this process still holds go back to `queued`, due now, so a restart picks them
    /// up at once instead of waiting for the lease. The interrupted attempt does not count.
    @discardableResult
    public func releaseLeases(ownerPrefix: String) async throws -> Int {
        let now = clock.now()
        return try await write { db -> Int in
            try db.execute(sql: """
                UPDATE job_attempts SET outcome = 'released', error = 'released at shutdown before it finished'
                WHERE outcome = 'running' AND worker LIKE ? || '%'
                """, arguments: [ownerPrefix])
            try db.execute(sql: """
                UPDATE jobs SET state = 'queued', attempts = MAX(0, attempts - 1), run_at = ?, lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = ?
                WHERE state = 'running' AND lease_owner LIKE ? || '%'
                """, arguments: [now, now, ownerPrefix])
            return db.changesCount
        }
    }

    /// Deletes succeeded jobs (and their attempts) finished before `cutoff`, a bounded number per call so
    /// pruning never holds the write lock for long. Failed jobs are kept for operators. Each pruned job leaves a
    /// tombstone with its dedupe key, so exactly-once still holds for facts older than the retention.
    @discardableResult
    public func pruneSucceeded(finishedBefore cutoff: Date, limit: Int = 1000) async throws -> Int {
        try await write { db -> Int in
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

    /// The earliest `run_at` of a queued job, so an idle worker can sleep until exactly then.
    public func nextRunAt() async throws -> Date? {
        try await read { db in try Date.fetchOne(db, sql: "SELECT MIN(run_at) FROM jobs WHERE state = 'queued'") }
    }
}
