import Foundation
import PostgresNIO
import RegistrarStore

/// What `registrar-bench` needs of a PostgreSQL database beyond the store's protocols: counting what reached the
/// disk, building a large history fast, and settling the table before measuring.
extension PostgresStore {
    /// Deliveries answered 200, and jobs, as committed.
    public func benchmarkCounts() async throws -> (acceptedDeliveries: Int, jobs: Int) {
        try await snapshot { tx in
            (try await tx.value("SELECT count(*) FROM deliveries WHERE http_status = 200", as: Int.self) ?? 0,
             try await tx.value("SELECT count(*) FROM jobs", as: Int.self) ?? 0)
        }
    }

    /// Adds jobs `from…through` of the same background history as `SQLiteStore.benchmarkFillHistory` (95 %
    /// succeeded, 2 % failed, 3 % queued in backoff, 50 course runs, the last 30 days) in one transaction, each
    /// job's key in `dedupe_keys` as intake leaves it.
    public func benchmarkFillHistory(from: Int, through: Int) async throws {
        try await write { tx in
            try await tx.run("""
                WITH src AS (
                    SELECT n, nextval(pg_get_serial_sequence('jobs', 'id')) AS id,
                           now() - interval '30 days' + (n % 2592000) * interval '1 second' AS created
                    FROM generate_series(\(Int64(from)), \(Int64(through))) AS n),
                k AS (INSERT INTO dedupe_keys (dedupe_key, job_id) SELECT 'woo:main:' || n || ':311:enroll', id FROM src)
                INSERT INTO jobs (id, kind, state, dedupe_key, serial_key, payload, attempts, max_attempts, run_at, last_error,
                                  result, source, created_at, updated_at, finished_at)
                SELECT id, 'enroll',
                       CASE WHEN n % 100 < 95 THEN 'succeeded' WHEN n % 100 < 97 THEN 'failed' ELSE 'queued' END,
                       'woo:main:' || n || ':311:enroll',
                       'bg' || n || '@bench.example.com|course-v1:Bench+Scale+' || (n % 50),
                       ('{"course_id":"course-v1:Bench+Scale+' || (n % 50) || '","email":"bg' || n
                           || '@bench.example.com","mode":"verified","order_reference":"' || n || '"}')::jsonb,
                       CASE WHEN n % 100 < 95 THEN 1 WHEN n % 100 < 97 THEN 25 ELSE 3 END,
                       25,
                       CASE WHEN n % 100 < 97 THEN created ELSE now() + interval '1 day' END,
                       CASE WHEN n % 100 < 95 THEN NULL WHEN n % 100 < 97 THEN 'attempts exhausted: HTTP 503'
                            ELSE 'HTTP 503; retrying' END,
                       CASE WHEN n % 100 < 95 THEN 'enrolled bg' || n ELSE NULL END,
                       'woocommerce', created, created,
                       CASE WHEN n % 100 < 97 THEN created ELSE NULL END
                FROM src
                """)
        }
    }

    /// Vacuums and analyzes (as autovacuum would after a bulk load, so the planner sees the table's size), then
    /// checkpoints.
    public func benchmarkCheckpoint() async throws {
        try await client.query("VACUUM ANALYZE", logger: logger)
        try await client.query("CHECKPOINT", logger: logger)
    }
}
