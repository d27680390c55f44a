import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: JobQueue {
    public func enqueue(_ jobs: [NewJob], delivery: NewDelivery?) async throws -> EnqueueResult {
        let maxAttempts = options.maxAttempts
        let result = try await transaction { connection, now, pipeline in
            var deliveryID: Int64?
            if let delivery { deliveryID = try await self.insertDelivery(delivery, receivedAt: now, on: connection) }
            let enqueued = try await self.insert(jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now,
                                                 on: connection, pipeline: pipeline)
            if let deliveryID {
                pipeline.send("UPDATE deliveries SET job_ids = \(enqueued.map(\.id)) WHERE id = \(deliveryID)")
            }
            try await self.notifyIf(enqueued.contains(where: \.created), on: connection)
            return EnqueueResult(deliveryID: deliveryID, jobs: enqueued)
        }
        jobsMayRun(result.jobs.contains(where: \.created))
        return result
    }

    public func enqueue(_ jobs: [ConditionalJob], deliveryID: Int64?) async throws -> [EnqueuedJob] {
        let maxAttempts = options.maxAttempts
        let enqueued = try await transaction { connection, now, pipeline in
            var wanted: [NewJob] = []
            for job in jobs where try await self.existingJob(dedupeKey: job.requiresDedupeKey, on: connection) != nil {
                wanted.append(job.job)
            }
            let enqueued = try await self.insert(wanted, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now,
                                                 on: connection, pipeline: pipeline)
            try await self.notifyIf(enqueued.contains(where: \.created), on: connection)
            return enqueued
        }
        jobsMayRun(enqueued.contains(where: \.created))
        return enqueued
    }

    /// Inserts jobs inside the caller's transaction. Each serial key is locked first (a transaction-scoped advisory
    /// lock, taken in one order by every caller), so the jobs of one key get ids in the order their transactions
    /// commit, across instances: claims run a key's jobs by id.
    func insert(_ jobs: [NewJob], deliveryID: Int64?, defaultMaxAttempts: Int, now: Date, on connection: PostgresConnection,
                pipeline: Pipeline) async throws -> [EnqueuedJob] {
        guard !jobs.isEmpty else { return [] }
        // One statement for the locks, sent ahead: the insert behind it runs once they are all held (a deadlock
        // among them is the failure the transaction reports, and retries).
        let serialKeys = Set(jobs.compactMap(\.serialKey)).sorted()
        if !serialKeys.isEmpty {
            pipeline.send("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(\(serialKeys)::text[]) AS k")
        }
        // A key twice in one call is one job, as if enqueued twice.
        var seen = Set<String>()
        let batch = jobs.filter { seen.insert($0.dedupeKey).inserted }
        // The keys are claimed in dedupe_keys first, in the jobs' order (their ids follow it): a concurrent enqueue of
        // the same key waits for this transaction, then finds the job; a pruned job's key stays there.
        var created: [String: Int64] = [:]
        let rows = try await connection.query("""
            WITH input AS (
                SELECT * FROM unnest(\(batch.map(\.kind.rawValue))::text[], \(batch.map(\.dedupeKey))::text[],
                                     \(batch.map { $0.serialKey ?? "" })::text[], \(batch.map(\.payload))::text[],
                                     \(batch.map { Int32(clamping: $0.maxAttempts ?? defaultMaxAttempts) })::integer[],
                                     \(batch.map { $0.runAt ?? now })::timestamptz[], \(batch.map(\.source))::text[])
                    WITH ORDINALITY AS t(kind, dedupe_key, serial_key, payload, max_attempts, run_at, source, n)),
            k AS (
                INSERT INTO dedupe_keys (dedupe_key, job_id)
                SELECT dedupe_key, nextval(pg_get_serial_sequence('jobs', 'id')) FROM input ORDER BY n
                ON CONFLICT (dedupe_key) DO NOTHING
                RETURNING dedupe_key, job_id)
            INSERT INTO jobs (id, kind, state, dedupe_key, serial_key, payload, max_attempts, run_at, source, delivery_id,
                              created_at, updated_at)
            SELECT k.job_id, i.kind, 'queued', i.dedupe_key, nullif(i.serial_key, ''), i.payload::jsonb, i.max_attempts,
                   i.run_at, i.source, \(deliveryID), \(now), \(now)
            FROM k JOIN input i ON i.dedupe_key = k.dedupe_key
            RETURNING id, dedupe_key
            """, logger: logger)
        for try await (id, key) in rows.decode((Int64, String).self) { created[key] = id }
        var result: [EnqueuedJob] = []
        for job in jobs {
            if let id = created[job.dedupeKey] {
                // The first of a key twice in one call created it; the second finds it.
                let first = !result.contains { $0.dedupeKey == job.dedupeKey }
                result.append(EnqueuedJob(id: id, dedupeKey: job.dedupeKey, created: first, state: .queued))
            } else if let existing = try await existingJob(dedupeKey: job.dedupeKey, on: connection) {
                result.append(existing)
            } else {
                throw StoreError.corrupt("dedupe key \(job.dedupeKey) conflicts but no job has it")
            }
        }
        return result
    }

    /// The job behind a dedupe key, live or pruned (a pruned job succeeded; its key stays in dedupe_keys).
    func existingJob(dedupeKey: String, on connection: PostgresConnection) async throws -> EnqueuedJob? {
        let rows = try await connection.query("""
            SELECT d.job_id, j.state FROM dedupe_keys d LEFT JOIN jobs j ON j.id = d.job_id WHERE d.dedupe_key = \(dedupeKey)
            """, logger: logger)
        for try await (id, state) in rows.decode((Int64, String?).self) {
            return EnqueuedJob(id: id, dedupeKey: dedupeKey, created: false,
                               state: state.flatMap(JobState.init(rawValue:)) ?? .succeeded)
        }
        return nil
    }

    /// Asks for the other instances' idle workers to be woken (`PostgresStore.startNotifying`). Not a NOTIFY in this
    /// transaction: a transaction that notifies takes PostgreSQL's one notification-queue lock while it commits,
    /// so every intake commit would wait for every other one's flush (263 commits/s against 3,733 without, in
    /// pgbench on this machine).
    func notifyIf(_ yes: Bool, on connection: PostgresConnection) async throws {
        if yes { wakeOthers.ring() }
    }

    public func claim(owner: String, limit: Int) async throws -> [ClaimedJob] {
        try await transaction { connection, now in
            try await self.claim(owner: owner, limit: limit, now: now, on: connection)
        }
    }

    /// Claims the due heads of their keys. `SKIP LOCKED` lets instances claim side by side without waiting on each
    /// other's rows; the CTE fences the LIMIT so exactly the rows selected are updated. A job is due when no earlier
    /// job of its key is open and none of its key is running; the unique index on running jobs per key holds that
    /// even where two claims' snapshots interleave (the loser's transaction is retried).
    private func claim(owner: String, limit: Int, now: Date, on connection: PostgresConnection) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let leaseUntil = now.addingTimeInterval(options.lease.seconds)
        let rows = try await connection.query("""
            WITH due AS (
                SELECT j.id FROM jobs j
                WHERE j.state = 'queued' AND j.run_at <= \(now)
                  AND (j.serial_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM jobs p
                        WHERE p.serial_key = j.serial_key AND p.state IN ('queued', 'running') AND p.id <> j.id
                          AND (p.state = 'running' OR p.id < j.id)))
                ORDER BY j.run_at, j.id
                LIMIT \(limit)
                FOR UPDATE OF j SKIP LOCKED),
            claimed AS (
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = \(owner),
                                lease_expires_at = \(leaseUntil), updated_at = \(now)
                FROM due WHERE jobs.id = due.id
                RETURNING jobs.*),
            attempt AS (
                INSERT INTO job_attempts (job_id, attempt, worker, started_at, outcome)
                SELECT id, attempts, \(owner), \(now), 'running' FROM claimed
                RETURNING job_id, id AS attempt_id)
            SELECT \(unescaped: Columns.job), attempt.attempt_id FROM claimed JOIN attempt ON attempt.job_id = claimed.id
            ORDER BY claimed.run_at, claimed.id
            """, logger: logger)
        return try await rows.all { row in
            ClaimedJob(job: try Job(row: row), attemptID: try row.makeRandomAccess().value("attempt_id"), owner: owner,
                       startedAt: now)
        }
    }

    public func finish(_ claimed: ClaimedJob, outcome: HandlerOutcome, thenClaim limit: Int) async throws
        -> (state: JobState?, next: [ClaimedJob]) {
        let result = try await transaction { connection, now, pipeline -> (state: JobState?, next: [ClaimedJob]) in
            let step = self.options.retry.nextStep(for: outcome, attempts: claimed.job.attempts,
                                                   maxAttempts: claimed.job.maxAttempts, now: now, unitRandom: self.random.next())
            let state = try await self.recordOutcome(of: claimed, outcome: outcome, step: step, now: now, on: connection,
                                                     pipeline: pipeline)
            // A finished job may unblock the next one of its key, here or on another instance.
            try await self.notifyIf(state != nil && claimed.job.serialKey != nil, on: connection)
            return (state, try await self.claim(owner: claimed.owner, limit: limit, now: now, on: connection))
        }
        jobsMayRun(result.state != nil)
        return result
    }

    /// The attempt's and the job's updates are sent ahead: the claim after them, or the commit, waits for them.
    private func recordOutcome(of claimed: ClaimedJob, outcome: HandlerOutcome, step: NextStep, now: Date,
                               on connection: PostgresConnection, pipeline: Pipeline) async throws -> JobState? {
        let durationMS = Int32(clamping: max(0, Int((now.timeIntervalSince(claimed.startedAt) * 1000).rounded())))
        let status = outcome.httpStatus.map(Int32.init(clamping:))
        // Locks the row: a rescue by another instance waits, or has already moved the job on.
        let stillOurs = try await connection.query("""
            SELECT 1 FROM jobs WHERE id = \(claimed.job.id) AND state = 'running' AND lease_owner = \(claimed.owner)
              AND attempts = \(Int32(clamping: claimed.job.attempts))
            FOR UPDATE
            """, logger: logger).first(Int32.self) != nil
        guard stillOurs else {
            pipeline.send("""
                UPDATE job_attempts SET duration_ms = \(durationMS), outcome = \(outcome.label), http_status = \(status),
                       error = 'lease lost before the attempt finished; its result was not applied: ' || \(outcome.message ?? "")
                WHERE id = \(claimed.attemptID)
                """)
            return nil
        }
        let error: String? = if case .success = outcome { nil } else { outcome.message }
        pipeline.send("""
            UPDATE job_attempts SET duration_ms = \(durationMS), outcome = \(outcome.label), http_status = \(status),
                   error = \(error)
            WHERE id = \(claimed.attemptID)
            """)
        switch step {
        case .succeed(let detail):
            pipeline.send("""
                UPDATE jobs SET state = 'succeeded', result = \(detail), last_http_status = \(status), lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = \(now), finished_at = \(now)
                WHERE id = \(claimed.job.id)
                """)
            return .succeeded
        case .retry(let at, let reason):
            pipeline.send("""
                UPDATE jobs SET state = 'queued', run_at = \(at), last_error = \(reason), last_http_status = \(status),
                                lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now)
                WHERE id = \(claimed.job.id)
                """)
            return .queued
        case .fail(let reason):
            pipeline.send("""
                UPDATE jobs SET state = 'failed', last_error = \(reason), last_http_status = \(status), lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = \(now), finished_at = \(now)
                WHERE id = \(claimed.job.id)
                """)
            return .failed
        }
    }

    public func extendLease(_ claimed: ClaimedJob) async throws -> Bool {
        try await transaction { connection, now in
            let until = now.addingTimeInterval(self.options.lease.seconds)
            return try await connection.query("""
                UPDATE jobs SET lease_expires_at = \(until), updated_at = \(now)
                WHERE id = \(claimed.job.id) AND state = 'running' AND lease_owner = \(claimed.owner)
                  AND attempts = \(Int32(clamping: claimed.job.attempts))
                RETURNING 1
                """, logger: self.logger).first(Int32.self) != nil
        }
    }

    /// Any instance may rescue: the rows are locked as they are taken, and one another instance holds are left
    /// to it.
    @discardableResult
    public func rescueExpiredLeases() async throws -> Int {
        let rescued = try await transaction { connection, now -> Int in
            let rows = try await connection.query("""
                WITH expired AS (
                    SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < \(now) FOR UPDATE SKIP LOCKED),
                marked AS (
                    UPDATE job_attempts SET outcome = 'lease_expired',
                           error = 'lease expired: the worker stopped or crashed during the attempt'
                    WHERE outcome = 'running' AND job_id IN (SELECT id FROM expired))
                UPDATE jobs SET
                    state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                    finished_at = CASE WHEN attempts >= max_attempts THEN \(now) ELSE NULL END,
                    last_error = CASE WHEN attempts >= max_attempts
                        THEN 'attempts exhausted: the lease of the last attempt expired (worker stopped or crashed)'
                        ELSE 'lease expired: the worker stopped or crashed during the attempt' END,
                    run_at = \(now), lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now)
                WHERE id IN (SELECT id FROM expired)
                RETURNING id
                """, logger: self.logger)
            let count = try await rows.all { _ in 1 }.count
            try await self.notifyIf(count > 0, on: connection)
            return count
        }
        jobsMayRun(rescued > 0)
        return rescued
    }

    @discardableResult
    public func releaseLeases(ownerPrefix: String) async throws -> Int {
        let released = try await transaction { connection, now -> Int in
            try await connection.query("""
                UPDATE job_attempts SET outcome = 'released', error = 'released at shutdown before it finished'
                WHERE outcome = 'running' AND starts_with(worker, \(ownerPrefix))
                """, logger: self.logger)
            let count = try await connection.query("""
                UPDATE jobs SET state = 'queued', attempts = greatest(0, attempts - 1), run_at = \(now), lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = \(now)
                WHERE state = 'running' AND starts_with(lease_owner, \(ownerPrefix))
                RETURNING id
                """, logger: self.logger).all { _ in 1 }.count
            try await self.notifyIf(count > 0, on: connection)
            return count
        }
        jobsMayRun(released > 0)
        return released
    }

    /// Their dedupe keys stay in dedupe_keys, so exactly-once holds for older facts; the tombstone keeps what
    /// a later replay's supersede check needs.
    @discardableResult
    public func pruneSucceeded(olderThan retention: Duration, limit: Int) async throws -> Int {
        try await transaction { connection, now in
            let cutoff = now.addingTimeInterval(-retention.seconds)
            return try await connection.query("""
                WITH gone AS (
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs WHERE state = 'succeeded' AND finished_at < \(cutoff)
                        LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                    RETURNING dedupe_key, id, kind, serial_key, finished_at),
                kept AS (
                    INSERT INTO pruned_jobs (dedupe_key, job_id, kind, serial_key, finished_at)
                    SELECT dedupe_key, id, kind, serial_key, finished_at FROM gone ON CONFLICT DO NOTHING)
                SELECT count(*) FROM gone
                """, logger: self.logger).first(Int64.self).map(Int.init) ?? 0
        }
    }
}
