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
        // What the commerce features keep, as on SQLite: money as decimal text ("49.00", never a float), JSON
        // columns as the text the core writes and reads.
        Step(version: 2, name: "orders, codes, invoices, contracts, sales, prices, coupons, tokens, console", sql: [
            "CREATE TABLE learner_accounts (email text PRIMARY KEY, username text NOT NULL, looked_up_at timestamptz NOT NULL)",
            """
            CREATE TABLE woo_orders (
                store text COLLATE "C" NOT NULL, order_id bigint NOT NULL, newest_modified_gmt text, status text NOT NULL,
                updated_at timestamptz NOT NULL, attention text, attention_detail text, attention_at timestamptz,
                total text, currency text,
                PRIMARY KEY (store, order_id))
            """,
            "CREATE INDEX woo_orders_attention ON woo_orders (attention_at) WHERE attention IS NOT NULL",
            """
            CREATE TABLE orders (
                reference text COLLATE "C" PRIMARY KEY, email text NOT NULL, currency text NOT NULL, total text NOT NULL,
                items text NOT NULL, status text NOT NULL, attention text, profile_id text NOT NULL, transaction_id text,
                created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, created_by text, coupon text)
            """,
            "CREATE INDEX orders_attention ON orders (attention) WHERE attention IS NOT NULL",
            "CREATE INDEX orders_created ON orders (created_at)",
            """
            CREATE TABLE payments (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                order_reference text COLLATE "C" NOT NULL REFERENCES orders (reference),
                transaction_id text NOT NULL, decision text NOT NULL, amount text, currency text, outcome text NOT NULL,
                delivery_id bigint REFERENCES deliveries (id), created_at timestamptz NOT NULL)
            """,
            "CREATE INDEX payments_order ON payments (order_reference)",
            "CREATE INDEX payments_transaction ON payments (transaction_id)",
            "CREATE INDEX payments_delivery ON payments (delivery_id)",
            """
            CREATE TABLE api_tokens (
                name text PRIMARY KEY, role text NOT NULL, token_hash text NOT NULL UNIQUE, created_at timestamptz NOT NULL,
                revoked_at timestamptz, scope text, may_set_prices boolean NOT NULL DEFAULT false)
            """,
            """
            CREATE TABLE woo_catch_up (
                store text PRIMARY KEY, cursor text, lease_holder text, lease_expires_at timestamptz,
                last_started_at timestamptz, last_finished_at timestamptz, last_succeeded_at timestamptz,
                last_result text, last_error text, last_listed integer NOT NULL DEFAULT 0,
                last_recovered integer NOT NULL DEFAULT 0, recovered_total integer NOT NULL DEFAULT 0,
                ignores_modified_after boolean NOT NULL DEFAULT false, webhooks text, webhooks_checked_at timestamptz)
            """,
            """
            CREATE TABLE codes (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text COLLATE "C" NOT NULL UNIQUE,
                course_id text COLLATE "C" NOT NULL, mode text, source text NOT NULL, source_ref text COLLATE "C" NOT NULL,
                unlimited boolean NOT NULL DEFAULT false, price text NOT NULL DEFAULT '0', currency text, state text NOT NULL,
                created_at timestamptz NOT NULL, void_reason text, voided_at timestamptz, voided_by text)
            """,
            "CREATE INDEX codes_source ON codes (source, source_ref)",
            "CREATE INDEX codes_course ON codes (course_id)",
            """
            CREATE TABLE code_redemptions (
                code text COLLATE "C" NOT NULL REFERENCES codes (code), email text NOT NULL, redeemed_at timestamptz NOT NULL,
                job_id bigint, PRIMARY KEY (code, email))
            """,
            "CREATE INDEX code_redemptions_email ON code_redemptions (email)",
            """
            CREATE TABLE invoices (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, course_id text NOT NULL, mode text, seats integer NOT NULL,
                unit_price text NOT NULL, currency text NOT NULL, total text NOT NULL, company_name text NOT NULL,
                contact_name text, contact_email text NOT NULL, recipient_name text, recipient_email text NOT NULL,
                po_number text, customer_reference text, internal_reference text, address text, note text,
                created_by text NOT NULL, created_at timestamptz NOT NULL, voided_at timestamptz)
            """,
            """
            CREATE TABLE invoice_transactions (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices (id),
                amount text NOT NULL, reference text, recorded_by text NOT NULL, at timestamptz NOT NULL)
            """,
            "CREATE INDEX invoice_transactions_invoice ON invoice_transactions (invoice_id, id)",
            """
            CREATE TABLE invoice_history (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices (id),
                at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL, detail text NOT NULL)
            """,
            "CREATE INDEX invoice_history_invoice ON invoice_history (invoice_id, id)",
            """
            CREATE TABLE woo_seat_refunds (
                store text NOT NULL, order_id bigint NOT NULL, line_id bigint NOT NULL, seats integer NOT NULL,
                updated_at timestamptz NOT NULL, PRIMARY KEY (store, order_id, line_id))
            """,
            """
            CREATE TABLE code_holds (
                order_ref text COLLATE "C" PRIMARY KEY REFERENCES orders (reference),
                code text COLLATE "C" NOT NULL REFERENCES codes (code), email text NOT NULL,
                expires_at timestamptz NOT NULL, state text NOT NULL DEFAULT 'held')
            """,
            "CREATE INDEX code_holds_code ON code_holds (code) WHERE state = 'held'",
            """
            CREATE TABLE organizations (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE, key text NOT NULL UNIQUE,
                slug text NOT NULL, created_at timestamptz NOT NULL)
            """,
            """
            CREATE TABLE contracts (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, org_id bigint NOT NULL REFERENCES organizations (id),
                name text NOT NULL, slug text NOT NULL, description text, integration text NOT NULL,
                start_date text, end_date text, max_learners integer, price text NOT NULL DEFAULT '0', currency text,
                active boolean NOT NULL DEFAULT true, over_cap boolean NOT NULL DEFAULT false,
                sync_generation integer NOT NULL DEFAULT 0,
                created_by text NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)
            """,
            "CREATE INDEX contracts_org ON contracts (org_id, id)",
            """
            CREATE TABLE contract_runs (
                course_id text COLLATE "C" PRIMARY KEY, contract_id bigint NOT NULL REFERENCES contracts (id), source_id text,
                state text NOT NULL, attached boolean NOT NULL DEFAULT true, error text,
                created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)
            """,
            "CREATE INDEX contract_runs_contract ON contract_runs (contract_id)",
            """
            CREATE TABLE contract_learners (
                contract_id bigint NOT NULL REFERENCES contracts (id), email text NOT NULL, source text NOT NULL,
                since timestamptz NOT NULL, PRIMARY KEY (contract_id, email))
            """,
            """
            CREATE TABLE sales (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, source text NOT NULL, order_ref text COLLATE "C" NOT NULL,
                email text NOT NULL, currency text NOT NULL, paid_at timestamptz NOT NULL, lines text NOT NULL)
            """,
            "CREATE UNIQUE INDEX sales_checkout ON sales (order_ref) WHERE source = 'cybersource'",
            "CREATE INDEX sales_order ON sales (source, order_ref)",
            """
            CREATE TABLE refunds (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, origin text NOT NULL, order_source text NOT NULL,
                order_ref text COLLATE "C" NOT NULL, line integer, amount text NOT NULL, currency text NOT NULL,
                reference text COLLATE "C", surplus boolean NOT NULL DEFAULT false, recorded_by text NOT NULL,
                at timestamptz NOT NULL)
            """,
            "CREATE UNIQUE INDEX refunds_reference ON refunds (order_source, order_ref, reference) WHERE reference IS NOT NULL",
            "CREATE INDEX refunds_order ON refunds (order_source, order_ref)",
            """
            CREATE TABLE prices (
                course_id text COLLATE "C" NOT NULL, mode text COLLATE "C" NOT NULL, currency text COLLATE "C" NOT NULL,
                price text NOT NULL, updated_at timestamptz NOT NULL, updated_by text NOT NULL,
                PRIMARY KEY (course_id, mode, currency))
            """,
            """
            CREATE TABLE coupons (
                code text COLLATE "C" PRIMARY KEY, kind text NOT NULL, value text NOT NULL, currency text, courses text NOT NULL,
                expires text, max_uses integer, active boolean NOT NULL DEFAULT true, description text,
                created_at timestamptz NOT NULL, created_by text NOT NULL)
            """,
            """
            CREATE TABLE coupon_uses (
                order_ref text COLLATE "C" PRIMARY KEY, code text COLLATE "C" NOT NULL, state text NOT NULL,
                expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL)
            """,
            "CREATE INDEX coupon_uses_code ON coupon_uses (code, state, expires_at)",
            """
            CREATE TABLE console_sessions (
                id_hash text PRIMARY KEY, token_hash text NOT NULL, csrf text NOT NULL, created_at timestamptz NOT NULL,
                last_seen_at timestamptz NOT NULL, ended_at timestamptz)
            """,
        ]),
        Step(version: 3, name: "leaders and the shared Open edX budget", sql: [
            "CREATE TABLE registrar_leaders (role text PRIMARY KEY, holder text NOT NULL, expires_at timestamptz NOT NULL)",
            """
            CREATE TABLE openedx_budget (
                id integer PRIMARY KEY CHECK (id = 1), next_slot timestamptz NOT NULL, paused_until timestamptz NOT NULL)
            """,
            "INSERT INTO openedx_budget (id, next_slot, paused_until) VALUES (1, '-infinity', '-infinity')",
        ]),
        // The first delivery of a store order in one statement, so intake's commonest write is one round trip
        // (`WooOrders.takeNew`): the order's lock, the check that nothing is known of it, and the writes
        // `WooOrders.take` makes for such an order. Nothing is written, and no row returned, when anything is known.
        Step(version: 4, name: "a new order's intake in one call", sql: [
            """
            CREATE FUNCTION registrar_take_new_order(
                lock_key text, order_store text, order_number bigint, keys_from text, keys_to text, taken_at timestamptz,
                d_source text, d_channel text, d_headers jsonb, d_body bytea, d_body_size integer, d_body_sha256 text,
                d_verdict text, d_http_status integer, d_reason text,
                serial_keys text[], j_kinds text[], j_keys text[], j_serials text[], j_payloads text[], j_max_attempts integer[],
                j_sources text[],
                o_newest text, o_status text, o_total text, o_currency text,
                s_source text, s_order_ref text, s_email text, s_currency text, s_lines text)
            RETURNS TABLE (taken_delivery bigint, taken_jobs bigint[])
            LANGUAGE plpgsql AS $$
            DECLARE
                t timestamptz := coalesce(taken_at, now());
                d bigint;
                ids bigint[];
                claimed integer;
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtextextended(lock_key, 1));
                IF EXISTS (SELECT 1 FROM woo_orders w
                           WHERE w.store = order_store AND w.order_id = order_number AND w.newest_modified_gmt IS NOT NULL)
                   OR EXISTS (SELECT 1 FROM dedupe_keys k WHERE k.dedupe_key >= keys_from AND k.dedupe_key < keys_to)
                   OR EXISTS (SELECT 1 FROM dedupe_keys k WHERE k.dedupe_key = ANY (j_keys)) THEN
                    RETURN;
                END IF;
                PERFORM pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(serial_keys) AS k;
                ids := ARRAY(SELECT nextval(pg_get_serial_sequence('jobs', 'id')) FROM generate_series(1, cardinality(j_keys)));
                INSERT INTO deliveries (source, channel, received_at, headers, body, body_size, body_sha256, verdict,
                                        http_status, reason, job_ids)
                VALUES (d_source, d_channel, t, d_headers, d_body, d_body_size, d_body_sha256, d_verdict, d_http_status,
                        d_reason, ids)
                RETURNING id INTO d;
                INSERT INTO dedupe_keys (dedupe_key, job_id) SELECT * FROM unnest(j_keys, ids) ON CONFLICT DO NOTHING;
                -- A key claimed since the check above, by a writer that does not take the order's lock: undone and
                -- retried as a serialization failure, when the check sends the delivery the general way.
                GET DIAGNOSTICS claimed = ROW_COUNT;
                IF claimed <> cardinality(j_keys) THEN
                    RAISE EXCEPTION 'a job key of order % was taken meanwhile', order_number USING ERRCODE = 'serialization_failure';
                END IF;
                INSERT INTO jobs (id, kind, state, dedupe_key, serial_key, payload, max_attempts, run_at, source, delivery_id,
                                  created_at, updated_at)
                SELECT u.id, u.kind, 'queued', u.key, nullif(u.serial, ''), u.payload::jsonb, u.max_attempts, t, u.source, d, t, t
                FROM unnest(ids, j_kinds, j_keys, j_serials, j_payloads, j_max_attempts, j_sources)
                    AS u(id, kind, key, serial, payload, max_attempts, source);
                IF o_status IS NOT NULL THEN
                    INSERT INTO woo_orders (store, order_id, newest_modified_gmt, status, updated_at, total, currency)
                    VALUES (order_store, order_number, o_newest, o_status, t, o_total, o_currency)
                    ON CONFLICT (store, order_id) DO UPDATE SET
                        newest_modified_gmt = coalesce(excluded.newest_modified_gmt, woo_orders.newest_modified_gmt),
                        status = excluded.status, updated_at = excluded.updated_at,
                        total = coalesce(woo_orders.total, excluded.total), currency = coalesce(woo_orders.currency, excluded.currency);
                END IF;
                IF s_order_ref IS NOT NULL THEN
                    INSERT INTO sales (source, order_ref, email, currency, paid_at, lines)
                    VALUES (s_source, s_order_ref, s_email, s_currency, t, s_lines)
                    ON CONFLICT DO NOTHING;
                END IF;
                RETURN QUERY SELECT d, ids;
            END
            $$
            """,
        ]),
    ]
}
