import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// Job rows written inside a caller's transaction, so intake can add jobs, record its delivery and update its own
/// bookkeeping all in one commit.
enum JobTable {
    /// - Parameter knownAbsent: dedupe keys the caller has just looked up, in this transaction, and found on no
    ///   job; their jobs skip the look before inserting.
    static func insert(_ jobs: [NewJob], deliveryID: Int64?, defaultMaxAttempts: Int, now: Date,
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

    static func fetch(id: Int64, in db: Database) throws -> Job? {
        try JobRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM jobs WHERE id = ?"), arguments: [id])?.job
    }
}
