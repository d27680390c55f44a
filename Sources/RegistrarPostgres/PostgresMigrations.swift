import Foundation
import Logging
import PostgresNIO
import RegistrarCore
import RegistrarStore

/// The PostgreSQL schema, in numbered steps. `registrar migrate` applies the missing ones under a session advisory
/// lock; `serve` never migrates, and refuses a database that is behind (or ahead of) this version.
enum PostgresMigrations {
    struct Step {
        let version: Int
        let name: String
        let sql: [String]
    }

    /// Taken by `migrate` for the whole run: a second `registrar migrate` waits instead of racing the first.
    static let lockKey: Int64 = 0x5245_4749_5354_5241 // "REGISTRA"

    static var latest: Int { steps.last?.version ?? 0 }

    static func outdatedMessage(found: Int, database: PostgresURL) -> String {
        if found > latest {
            return "the database \(database) has schema version \(found), newer than this registrar's \(latest): run the newer registrar"
        }
        return "the database \(database) has schema version \(found), this registrar needs \(latest): run `registrar migrate`"
    }

    /// The version the database is at: 0 when Registrar has never migrated it.
    static func currentVersion(of client: PostgresClient, logger: Logger) async throws -> Int {
        try await client.withConnection { connection in try await currentVersion(on: connection, logger: logger) }
    }

    private static func currentVersion(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let exists = try await connection.query("SELECT to_regclass('registrar_schema') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return 0 }
        for try await version in try await connection.query("SELECT coalesce(max(version), 0) FROM registrar_schema",
                                                            logger: logger).decode(Int.self) {
            return version
        }
        return 0
    }

    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> (from: Int, to: Int) {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS registrar_schema (
                        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                let from = try await currentVersion(on: connection, logger: logger)
                guard from <= latest else {
                    throw StoreError.cannotOpen("the database has schema version \(from), newer than this registrar's \(latest)")
                }
                for step in steps where step.version > from {
                    // Each step commits whole or not at all: PostgreSQL's DDL is transactional.
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        for statement in step.sql {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.query("INSERT INTO registrar_schema (version, name) VALUES (\(step.version), \(step.name))",
                                                   logger: logger)
                        try await connection.query("COMMIT", logger: logger)
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw StoreError.cannotOpen("migration \(step.version) (\(step.name)) failed: \(String(reflecting: error))")
                    }
                }
                _ = try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                return (from, latest)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw error
            }
        }
    }

    /// Keys compare byte by byte (`COLLATE "C"`), as in SQLite, so a prefix is a range of an index.
    static let steps: [Step] = [
        Step(version: 1, name: "jobs, attempts, deliveries, audit", sql: [
            """
            CREATE TABLE deliveries (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                source text NOT NULL,
                channel text,
                received_at timestamptz NOT NULL,
                headers jsonb NOT NULL DEFAULT '{}',
                body bytea NOT NULL,
                body_size integer NOT NULL,
                body_sha256 text,
                verdict text NOT NULL,
                http_status integer NOT NULL,
                reason text,
                job_ids bigint[] NOT NULL DEFAULT '{}'
            )
            """,
            "CREATE INDEX deliveries_received ON deliveries (received_at)",
            """
            CREATE TABLE jobs (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                kind text NOT NULL,
                state text NOT NULL,
                dedupe_key text COLLATE "C" NOT NULL UNIQUE,
                serial_key text COLLATE "C",
                payload jsonb NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                max_attempts integer NOT NULL,
                run_at timestamptz NOT NULL,
                lease_owner text,
                lease_expires_at timestamptz,
                last_error text,
                last_http_status integer,
                result text,
                source text NOT NULL,
                delivery_id bigint REFERENCES deliveries (id),
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                finished_at timestamptz
            )
            """,
            // Every dedupe key ever used, live or pruned: an INSERT … ON CONFLICT here is the one check, so a prune
            // committing beside an enqueue cannot let a pruned key in again.
            """
            CREATE TABLE dedupe_keys (
                dedupe_key text COLLATE "C" PRIMARY KEY,
                job_id bigint NOT NULL
            )
            """,
            "CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued'",
            "CREATE INDEX jobs_serial_open ON jobs (serial_key, id) WHERE state IN ('queued', 'running')",
            // At most one running job per serial key, whatever races: two claims, or a replay beside a running job.
            "CREATE UNIQUE INDEX jobs_one_running_per_serial ON jobs (serial_key) WHERE state = 'running'",
            "CREATE INDEX jobs_kind_state ON jobs (kind, state, id)",
            "CREATE INDEX jobs_learner ON jobs (serial_key, id)",
            "CREATE INDEX jobs_succeeded ON jobs (finished_at) WHERE state = 'succeeded'",
            "CREATE INDEX jobs_unenrolled ON jobs (serial_key, id) WHERE kind = 'unenroll' AND state = 'succeeded'",
            // Deleting a delivery checks that no job refers to it: an index, not a scan of the jobs per delivery.
            "CREATE INDEX jobs_delivery ON jobs (delivery_id) WHERE delivery_id IS NOT NULL",
            "CREATE INDEX jobs_expiring ON jobs (lease_expires_at) WHERE state = 'running'",
            """
            CREATE TABLE job_attempts (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
                attempt integer NOT NULL,
                worker text NOT NULL,
                started_at timestamptz NOT NULL,
                duration_ms integer,
                outcome text NOT NULL,
                http_status integer,
                error text
            )
            """,
            "CREATE INDEX job_attempts_job ON job_attempts (job_id, id)",
            "CREATE INDEX job_attempts_running ON job_attempts (job_id) WHERE outcome = 'running'",
            """
            CREATE TABLE pruned_jobs (
                dedupe_key text COLLATE "C" PRIMARY KEY,
                job_id bigint NOT NULL,
                kind text NOT NULL,
                serial_key text COLLATE "C",
                finished_at timestamptz
            )
            """,
            "CREATE INDEX pruned_jobs_serial ON pruned_jobs (serial_key, kind, job_id)",
            """
            CREATE TABLE operator_actions (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at timestamptz NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                job_id bigint,
                detail text
            )
            """,
            "CREATE INDEX operator_actions_job ON operator_actions (job_id)",
            "CREATE TABLE heartbeat (id integer PRIMARY KEY CHECK (id = 1), at timestamptz NOT NULL)",
        ]),
    ]
}
