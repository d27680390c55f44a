import Foundation
import GRDB

/// What `registrar-bench` needs of the SQLite file beyond the store's protocols: counting what reached the disk,
/// building a large history fast, and checkpointing the WAL before measuring.
extension SQLiteStore {
    /// Deliveries answered 200, and jobs: read back after a load, the proof that every 200 was committed.
    public func benchmarkCounts() async throws -> (acceptedDeliveries: Int, jobs: Int) {
        try await read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deliveries WHERE http_status = 200") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0)
        }
    }

    /// Adds jobs `from…through` of a background history in one transaction: 95 % succeeded, 2 % failed, 3 % queued
    /// in backoff (due in a day), 50 course runs, spread over the last 30 days. Dates in the store's own format.
    public func benchmarkFillHistory(from: Int, through: Int) async throws {
        try await write { db in try db.execute(sql: Self.historySQL, arguments: [from, through]) }
    }

    /// Adds `count` paid WooCommerce single seats of `courseID` in one transaction, as intake would have left
    /// them: the sale (49.00 USD), its succeeded enroll job, and the learner's username in the cache. Learner n is
    /// `<prefix>n`, `<prefix>n@<domain>`, n from 1.
    public func benchmarkFillPurchases(courseID: String, count: Int, prefix: String, domain: String) async throws {
        try await write { db in
            try db.execute(sql: """
                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
                INSERT INTO sales (source, order_ref, email, currency, paid_at, lines)
                SELECT 'woocommerce', 'main:' || n, ?3 || n || '@' || ?4, 'USD', strftime('%Y-%m-%d %H:%M:%f', 'now'),
                       json_array(json_object('line', n * 10 + 1, 'course_id', ?2, 'mode', 'audit', 'quantity', 1, 'fulfilment', 'single',
                                              'gross', '49.00', 'discount', '0.00',
                                              'enroll_key', 'woo:main:' || n || ':' || (n * 10 + 1) || ':enroll'))
                FROM seq
                """, arguments: [count, courseID, prefix, domain])
            try db.execute(sql: """
                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
                INSERT INTO jobs (kind, state, dedupe_key, serial_key, payload, attempts, max_attempts, run_at, result, source,
                                  created_at, updated_at, finished_at)
                SELECT 'enroll', 'succeeded', 'woo:main:' || n || ':' || (n * 10 + 1) || ':enroll', ?3 || n || '@' || ?4 || '|' || ?2,
                       '{"course_id":"' || ?2 || '","email":"' || ?3 || n || '@' || ?4 || '","mode":"audit"}', 1, 25, now, 'enrolled',
                       'woocommerce:main', now, now, now
                FROM (SELECT n, strftime('%Y-%m-%d %H:%M:%f', 'now') AS now FROM seq)
                """, arguments: [count, courseID, prefix, domain])
            try db.execute(sql: """
                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
                INSERT OR IGNORE INTO learner_accounts (email, username, looked_up_at)
                SELECT ?2 || n || '@' || ?3, ?2 || n, strftime('%Y-%m-%d %H:%M:%f', 'now') FROM seq
                """, arguments: [count, prefix, domain])
        }
    }

    /// Checkpoints the WAL into the database file and truncates it.
    public func benchmarkCheckpoint() async throws {
        try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    private static let historySQL = """
        WITH RECURSIVE seq(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
        INSERT INTO jobs (kind, state, dedupe_key, serial_key, payload, attempts, max_attempts, run_at, last_error,
                          result, source, created_at, updated_at, finished_at)
        SELECT 'enroll',
               CASE WHEN n % 100 < 95 THEN 'succeeded' WHEN n % 100 < 97 THEN 'failed' ELSE 'queued' END,
               'woo:main:' || n || ':311:enroll',
               'bg' || n || '@bench.example.com|course-v1:Bench+Scale+' || (n % 50),
               '{"course_id":"course-v1:Bench+Scale+' || (n % 50) || '","email":"bg' || n
                   || '@bench.example.com","mode":"verified","order_reference":"' || n || '"}',
               CASE WHEN n % 100 < 95 THEN 1 WHEN n % 100 < 97 THEN 25 ELSE 3 END,
               25,
               CASE WHEN n % 100 < 97 THEN created ELSE strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 day') END,
               CASE WHEN n % 100 < 95 THEN NULL WHEN n % 100 < 97 THEN 'attempts exhausted: HTTP 503'
                    ELSE 'HTTP 503; retrying' END,
               CASE WHEN n % 100 < 95 THEN 'enrolled bg' || n ELSE NULL END,
               'woocommerce', created, created,
               CASE WHEN n % 100 < 97 THEN created ELSE NULL END
        FROM (SELECT n, strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 days', '+' || (n % 2592000) || ' seconds') AS created
              FROM seq)
        """
}
