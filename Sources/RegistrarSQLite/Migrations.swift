import Foundation
import GRDB
import RegistrarCore

/// Versioned schema. Each migration runs once, in order, inside a transaction; never edit a shipped one —
/// add the next.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: jobs, attempts, deliveries, operator actions") { db in
            try db.execute(sql: """
                CREATE TABLE deliveries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    source TEXT NOT NULL,            -- woocommerce, cybersource, cli, api
                    channel TEXT,                    -- store id or payment profile id
                    received_at DATETIME NOT NULL,
                    headers TEXT NOT NULL DEFAULT '{}', -- JSON object: only the headers that matter
                    body BLOB NOT NULL,              -- the exact bytes received
                    verdict TEXT NOT NULL,           -- accepted, ignored, ping, rejected, stale, ...
                    http_status INTEGER NOT NULL,
                    reason TEXT,
                    job_ids TEXT NOT NULL DEFAULT '[]'  -- JSON array: jobs created or found by dedupe
                );
                CREATE INDEX deliveries_received ON deliveries(received_at);

                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    state TEXT NOT NULL,
                    dedupe_key TEXT NOT NULL,
                    serial_key TEXT,
                    payload TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL,
                    run_at DATETIME NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at DATETIME,
                    last_error TEXT,
                    last_http_status INTEGER,
                    result TEXT,
                    source TEXT NOT NULL,
                    delivery_id INTEGER REFERENCES deliveries(id),
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL,
                    finished_at DATETIME
                );
                -- The database, not a query-time check, makes a second delivery of a fact find the first job.
                CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key);
                CREATE INDEX jobs_due ON jobs(state, run_at);
                -- Serves the "is an earlier job of this key still open?" check of every claim.
                CREATE INDEX jobs_serial_open ON jobs(serial_key, id) WHERE state IN ('queued', 'running');
                CREATE INDEX jobs_serial ON jobs(serial_key, kind, state);
                CREATE INDEX jobs_leases ON jobs(lease_expires_at) WHERE state = 'running';
                CREATE INDEX jobs_succeeded ON jobs(finished_at) WHERE state = 'succeeded';
                CREATE INDEX jobs_delivery ON jobs(delivery_id);

                CREATE TABLE job_attempts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    attempt INTEGER NOT NULL,
                    worker TEXT NOT NULL,
                    started_at DATETIME NOT NULL,
                    duration_ms INTEGER,
                    outcome TEXT NOT NULL,           -- running, succeeded, transient, permanent, lease_expired, released
                    http_status INTEGER,
                    error TEXT
                );
                CREATE INDEX job_attempts_job ON job_attempts(job_id, id);

                -- Who replayed or cancelled what, from the CLI or the API.
                CREATE TABLE operator_actions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at DATETIME NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    job_id INTEGER,
                    detail TEXT
                );
                CREATE INDEX operator_actions_job ON operator_actions(job_id);
                """)
        }
        migrator.registerMigration("v2: learner accounts cache") { db in
            try db.execute(sql: """
                -- email → username, so repeated jobs for a learner skip the account lookup.
                CREATE TABLE learner_accounts (
                    email TEXT PRIMARY KEY,
                    username TEXT NOT NULL,
                    looked_up_at DATETIME NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3: WooCommerce orders") { db in
            try db.execute(sql: """
                -- The newest state of each order seen, so a late or out-of-order delivery is recognised as stale.
                CREATE TABLE woo_orders (
                    store TEXT NOT NULL,
                    order_id INTEGER NOT NULL,
                    newest_modified_gmt TEXT,
                    status TEXT NOT NULL,
                    updated_at DATETIME NOT NULL,
                    PRIMARY KEY (store, order_id)
                );
                """)
        }
        migrator.registerMigration("v4: orders, payments, API tokens") { db in
            try db.execute(sql: """
                -- Orders sold through the CyberSource hosted checkout.
                CREATE TABLE orders (
                    reference TEXT PRIMARY KEY,
                    email TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    total TEXT NOT NULL,             -- decimal text, "49.00"
                    items TEXT NOT NULL,             -- JSON: [{course_id, mode, quantity, unit_price, fulfilment}]
                    status TEXT NOT NULL,            -- pending, paid, in_review, declined, cancelled, error, rejected
                    attention TEXT,                  -- duplicate_payment, review, amount_mismatch: shown to operators
                    profile_id TEXT NOT NULL,
                    transaction_id TEXT,             -- the payment that paid it
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE INDEX orders_attention ON orders(attention) WHERE attention IS NOT NULL;

                -- Every payment callback that passed verification, with what it meant for its order.
                CREATE TABLE payments (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    order_reference TEXT NOT NULL REFERENCES orders(reference),
                    transaction_id TEXT NOT NULL,
                    decision TEXT NOT NULL,
                    amount TEXT,
                    currency TEXT,
                    outcome TEXT NOT NULL,
                    delivery_id INTEGER REFERENCES deliveries(id),
                    created_at DATETIME NOT NULL
                );
                CREATE INDEX payments_order ON payments(order_reference);
                CREATE INDEX payments_transaction ON payments(transaction_id);

                -- Bearer tokens for the HTTP API. Only a SHA-256 of the token is kept.
                CREATE TABLE api_tokens (
                    name TEXT PRIMARY KEY,
                    role TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at DATETIME NOT NULL,
                    revoked_at DATETIME
                );
                """)
        }
        migrator.registerMigration("v5: readiness heartbeat") { db in
            try db.execute(sql: """
                -- /readyz commits a row here: proof that a write reaches the disk, not just that the lock is free.
                CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at DATETIME NOT NULL);
                """)
        }
        migrator.registerMigration("v6: tombstones of pruned jobs") { db in
            try db.execute(sql: """
                -- A pruned job's dedupe key must keep working: an old order delivered again must not enroll
                -- again, a refund must still find the enrollment it undoes, a replay must still be superseded.
                CREATE TABLE pruned_jobs (
                    dedupe_key TEXT PRIMARY KEY,
                    job_id INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    serial_key TEXT,
                    finished_at DATETIME
                ) WITHOUT ROWID;
                CREATE INDEX pruned_jobs_serial ON pruned_jobs(serial_key, kind, job_id);
                """)
        }
        migrator.registerMigration("v7: lighter job indexes") { db in
            try db.execute(sql: """
                -- jobs_serial (serial_key, kind, state) took a leaf of a long, random key on every insert and moved
                -- on every change of state, for two readers that each get a smaller index: the replay's look for a
                -- later succeeded unenroll, and the queue counts. jobs_delivery served no query: deliveries are
                -- never deleted, so no foreign-key check needs it.
                DROP INDEX jobs_serial;
                DROP INDEX jobs_delivery;
                CREATE INDEX jobs_unenrolled ON jobs(serial_key, id) WHERE kind = 'unenroll' AND state = 'succeeded';
                CREATE INDEX jobs_kind_state ON jobs(kind, state);
                """)
        }
        migrator.registerMigration("v8: one running job per serial key") { db in
            try db.execute(sql: """
                -- Jobs of one serial key run one at a time. The claim's look for an earlier open job does not see a
                -- later job running while an operator replays an earlier one, so the database holds the rule itself.
                -- Should an older version have left several running for one key, all but the earliest are given back
                -- (the interrupted attempt not counted; a finish from their old worker is then refused as lease lost).
                UPDATE job_attempts SET outcome = 'released',
                       error = 'released by migration v8: an earlier job of its serial key was running'
                WHERE outcome = 'running' AND job_id IN (
                    SELECT j.id FROM jobs j
                    WHERE j.state = 'running' AND j.serial_key IS NOT NULL
                      AND EXISTS (SELECT 1 FROM jobs o WHERE o.serial_key = j.serial_key AND o.state = 'running' AND o.id < j.id));
                UPDATE jobs SET state = 'queued', attempts = MAX(0, attempts - 1), lease_owner = NULL, lease_expires_at = NULL
                WHERE state = 'running' AND serial_key IS NOT NULL
                  AND EXISTS (SELECT 1 FROM jobs o WHERE o.serial_key = jobs.serial_key AND o.state = 'running' AND o.id < jobs.id);
                CREATE UNIQUE INDEX jobs_serial_running ON jobs(serial_key) WHERE state = 'running';
                """)
        }
        migrator.registerMigration("v9: delivery retention, order owners") { db in
            try db.execute(sql: """
                -- A rejected delivery keeps its size, a hash and its first 4 KiB instead of its whole body.
                ALTER TABLE deliveries ADD COLUMN body_size INTEGER;
                ALTER TABLE deliveries ADD COLUMN body_sha256 TEXT;
                -- Deliveries are pruned now. Deleting one makes SQLite check that no job or payment refers to it
                -- (foreign keys), which without these indexes is a scan of each table per deleted row; and the
                -- prune itself asks the same question. delivery_id only grows, so the index appends at its end.
                CREATE INDEX jobs_delivery ON jobs(delivery_id);
                CREATE INDEX payments_delivery ON payments(delivery_id);
                -- Rejected deliveries go sooner than the rest; this finds them without walking the others.
                CREATE INDEX deliveries_rejected ON deliveries(received_at) WHERE verdict = 'rejected';
                -- The token that registered an order: a storefront token reads only its own.
                ALTER TABLE orders ADD COLUMN created_by TEXT;
                """)
        }
        migrator.registerMigration("v10: intake without jobs_delivery") { db in
            try db.execute(sql: """
                -- v9's index cost every intake commit one more B-tree page (3 % of intake throughput, measured) to
                -- serve only the minutely prune and its foreign-key checks. The prune now finds the deliveries jobs
                -- refer to in one pass on a reader and deletes with the check off (SQLiteDeliveryLog).
                DROP INDEX jobs_delivery;
                """)
        }
        migrator.registerMigration("v11: WooCommerce catch-up") { db in
            try db.execute(sql: """
                -- One row per store that catch-up has walked: its cursor (every order modified up to it is committed),
                -- the lease that keeps one walk per store at a time, and what the last walk found.
                CREATE TABLE woo_catch_up (
                    store TEXT PRIMARY KEY,
                    cursor TEXT,                      -- GMT, "2026-11-20T13:00:00"
                    lease_holder TEXT,
                    lease_expires_at DATETIME,
                    last_started_at DATETIME,
                    last_finished_at DATETIME,
                    last_succeeded_at DATETIME,
                    last_result TEXT,                 -- succeeded | failed
                    last_error TEXT,
                    last_listed INTEGER NOT NULL DEFAULT 0,
                    last_recovered INTEGER NOT NULL DEFAULT 0,
                    recovered_total INTEGER NOT NULL DEFAULT 0,
                    ignores_modified_after INTEGER NOT NULL DEFAULT 0,
                    webhooks TEXT,                    -- JSON: the webhooks delivering here, and what to fix
                    webhooks_checked_at DATETIME
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v12: registration codes") { db in
            try db.execute(sql: """
                -- A code grants one course run in one mode; its source is an order line, an invoice or a contract.
                CREATE TABLE codes (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- creation order: surplus codes are voided newest first
                    code TEXT NOT NULL UNIQUE,              -- 12 Crockford base32 characters, no dashes
                    course_id TEXT NOT NULL,
                    mode TEXT,
                    source TEXT NOT NULL,                   -- order | invoice | contract
                    source_ref TEXT NOT NULL,
                    unlimited INTEGER NOT NULL DEFAULT 0,
                    price TEXT NOT NULL DEFAULT '0',        -- decimal text
                    currency TEXT,
                    state TEXT NOT NULL,                    -- active | redeemed | void
                    created_at DATETIME NOT NULL,
                    void_reason TEXT,
                    voided_at DATETIME,
                    voided_by TEXT
                );
                CREATE INDEX codes_source ON codes(source, source_ref);
                CREATE INDEX codes_course ON codes(course_id);
                -- One row per learner and code: the primary key is what makes "the same learner again" one seat.
                CREATE TABLE code_redemptions (
                    code TEXT NOT NULL REFERENCES codes(code),
                    email TEXT NOT NULL,
                    redeemed_at DATETIME NOT NULL,
                    job_id INTEGER,
                    PRIMARY KEY (code, email)
                ) WITHOUT ROWID;
                CREATE INDEX code_redemptions_email ON code_redemptions(email);
                """)
        }
        migrator.registerMigration("v13: token scopes") { db in
            try db.execute(sql: """
                -- Course id prefixes a token is limited to, as a JSON array; NULL for every course.
                ALTER TABLE api_tokens ADD COLUMN scope TEXT;
                """)
        }
        migrator.registerMigration("v14: invoices") { db in
            try db.execute(sql: """
                CREATE TABLE invoices (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    course_id TEXT NOT NULL, mode TEXT, seats INTEGER NOT NULL,
                    unit_price TEXT NOT NULL, currency TEXT NOT NULL, total TEXT NOT NULL,   -- decimal text
                    company_name TEXT NOT NULL, contact_name TEXT, contact_email TEXT NOT NULL,
                    recipient_name TEXT, recipient_email TEXT NOT NULL,
                    po_number TEXT, customer_reference TEXT, internal_reference TEXT, address TEXT, note TEXT,
                    created_by TEXT NOT NULL, created_at DATETIME NOT NULL, voided_at DATETIME
                );
                -- Payments (positive) and refunds (negative).
                CREATE TABLE invoice_transactions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    invoice_id INTEGER NOT NULL REFERENCES invoices(id),
                    amount TEXT NOT NULL, reference TEXT, recorded_by TEXT NOT NULL, at DATETIME NOT NULL
                );
                CREATE INDEX invoice_transactions_invoice ON invoice_transactions(invoice_id, id);
                -- Append-only: nothing here is ever updated or deleted.
                CREATE TABLE invoice_history (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    invoice_id INTEGER NOT NULL REFERENCES invoices(id),
                    at DATETIME NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL
                );
                CREATE INDEX invoice_history_invoice ON invoice_history(invoice_id, id);
                """)
        }
        migrator.registerMigration("v15: seat refunds, WooCommerce orders needing attention") { db in
            try db.execute(sql: """
                -- Seats of a line sold as codes given back by the order's refunds (a partial refund leaves the line's
                -- quantity as it was), the largest count seen.
                CREATE TABLE woo_seat_refunds (
                    store TEXT NOT NULL, order_id INTEGER NOT NULL, line_id INTEGER NOT NULL,
                    seats INTEGER NOT NULL, updated_at DATETIME NOT NULL,
                    PRIMARY KEY (store, order_id, line_id)
                ) WITHOUT ROWID;
                -- refund_exceeds_unredeemed_seats and what it concerns; detail is kept when dismissed, so the same
                -- shortfall seen by a later delivery is not raised again.
                ALTER TABLE woo_orders ADD COLUMN attention TEXT;
                ALTER TABLE woo_orders ADD COLUMN attention_detail TEXT;
                ALTER TABLE woo_orders ADD COLUMN attention_at DATETIME;
                CREATE INDEX woo_orders_attention ON woo_orders(attention_at) WHERE attention IS NOT NULL;
                """)
        }
        migrator.registerMigration("v16: priced codes' held seats") { db in
            try db.execute(sql: """
                -- A priced code's seat held for one learner while they pay the order made for it.
                -- state: held (until expires_at), redeemed (paid in time or after), released (declined,
                -- cancelled, rejected), lapsed (paid after another learner took the seat).
                CREATE TABLE code_holds (
                    order_ref TEXT PRIMARY KEY REFERENCES orders(reference),
                    code TEXT NOT NULL REFERENCES codes(code),
                    email TEXT NOT NULL,
                    expires_at DATETIME NOT NULL,
                    state TEXT NOT NULL DEFAULT 'held'
                ) WITHOUT ROWID;
                CREATE INDEX code_holds_code ON code_holds(code) WHERE state = 'held';
                """)
        }
        migrator.registerMigration("v17: organizations and contracts") { db in
            try db.execute(sql: """
                CREATE TABLE organizations (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    key TEXT NOT NULL UNIQUE,               -- goes into contract runs' keys
                    slug TEXT NOT NULL,
                    created_at DATETIME NOT NULL
                );
                CREATE TABLE contracts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    org_id INTEGER NOT NULL REFERENCES organizations(id),
                    name TEXT NOT NULL, slug TEXT NOT NULL, description TEXT,
                    integration TEXT NOT NULL,              -- sso | non-sso
                    start_date TEXT, end_date TEXT,         -- YYYY-MM-DD, inclusive
                    max_learners INTEGER,                   -- NULL: uncapped
                    price TEXT NOT NULL DEFAULT '0', currency TEXT,
                    active INTEGER NOT NULL DEFAULT 1,
                    over_cap INTEGER NOT NULL DEFAULT 0,    -- set by contract.sync
                    sync_generation INTEGER NOT NULL DEFAULT 0,
                    created_by TEXT NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL
                );
                CREATE INDEX contracts_org ON contracts(org_id, id);
                -- A run belongs to one contract (the primary key); a removed one keeps its row, detached.
                CREATE TABLE contract_runs (
                    course_id TEXT PRIMARY KEY,
                    contract_id INTEGER NOT NULL REFERENCES contracts(id),
                    source_id TEXT,                         -- NULL: an existing run attached as it is
                    state TEXT NOT NULL,                    -- requested | cloning | ready | failed
                    attached INTEGER NOT NULL DEFAULT 1,
                    error TEXT,
                    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX contract_runs_contract ON contract_runs(contract_id);
                -- Distinct learners of a contract: the cap counts these rows.
                CREATE TABLE contract_learners (
                    contract_id INTEGER NOT NULL REFERENCES contracts(id),
                    email TEXT NOT NULL,
                    source TEXT NOT NULL,                   -- attach | code
                    since DATETIME NOT NULL,
                    PRIMARY KEY (contract_id, email)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v18: sales and refunds") { db in
            try db.execute(sql: """
                -- What was paid, as the reports count it: one row per paid order (or per lines of it paid later), its course
                -- lines as JSON, appended in rowid order and written once. A row per line, or a key on the order, cost intake's
                -- one writer 20-25 µs a delivery (measured: −13 % deliveries/s); one appended row costs a few.
                CREATE TABLE sales (
                    id INTEGER PRIMARY KEY,
                    source TEXT NOT NULL,                   -- woocommerce | cybersource
                    order_ref TEXT NOT NULL,                -- "<store>:<order id>" or the order reference
                    email TEXT NOT NULL, currency TEXT NOT NULL,
                    paid_at DATETIME NOT NULL,
                    lines TEXT NOT NULL                     -- [{line, course_id, mode, quantity, fulfilment, gross, discount, enroll_key}]
                );
                CREATE UNIQUE INDEX sales_checkout ON sales(order_ref) WHERE source = 'cybersource';
                -- No index by course either: a report reads the table through once.
                -- What the customer paid for a store order, tax and shipping included (the part beyond its course lines
                -- takes its share of a refund by amount), and in which currency. Kept on the row intake writes anyway.
                ALTER TABLE woo_orders ADD COLUMN total TEXT;
                ALTER TABLE woo_orders ADD COLUMN currency TEXT;
                -- Money given back: WooCommerce refunds, gateway refunds recorded by an operator or from the gateway's
                -- report. The same reference on one order is the same refund.
                CREATE TABLE refunds (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    origin TEXT NOT NULL,                   -- woocommerce | gateway | reconciliation
                    order_source TEXT NOT NULL,
                    order_ref TEXT NOT NULL,
                    line INTEGER,                           -- NULL: the order as a whole
                    amount TEXT NOT NULL, currency TEXT NOT NULL,
                    reference TEXT,
                    surplus INTEGER NOT NULL DEFAULT 0,     -- gives back a duplicate payment, no line's money
                    recorded_by TEXT NOT NULL,
                    at DATETIME NOT NULL
                );
                CREATE UNIQUE INDEX refunds_reference ON refunds(order_source, order_ref, reference) WHERE reference IS NOT NULL;
                CREATE INDEX refunds_order ON refunds(order_source, order_ref);
                """)
            // Orders paid before this version: their lines from the order's items, dated by the payment that paid them.
            for row in try Row.fetchAll(db, sql: """
                SELECT o.*, (SELECT MIN(p.created_at) FROM payments p WHERE p.order_reference = o.reference
                             AND p.transaction_id = o.transaction_id) AS paid_at
                FROM orders o WHERE o.status = 'paid'
                """) {
                guard let order = try? OrderRecord(row: row).order else { continue }
                let paidAt: Date = row["paid_at"] ?? order.updatedAt
                try SalesTable.record(SaleLine.lines(of: order.snapshot, paidAt: paidAt), paidAt: paidAt, in: db)
            }
            // WooCommerce seats paid before it: their enroll jobs say who and which course, not for how much, so they
            // count as seats (in ISO 4217's "no currency", XXX, at 0.00) and explain their enrollments.
            try db.execute(sql: """
                INSERT INTO sales (source, order_ref, email, currency, paid_at, lines)
                SELECT 'woocommerce', substr(k, 5, length(k) - 4 - length(line) - 1), email, 'XXX', created_at,
                       json_array(json_object('line', CAST(line AS INTEGER), 'course_id', course, 'mode', mode, 'quantity', 1,
                                              'fulfilment', 'single', 'gross', '0.00', 'discount', '0.00', 'enroll_key', dedupe_key))
                FROM (SELECT dedupe_key, created_at,
                             json_extract(payload, '$.course_id') AS course, json_extract(payload, '$.mode') AS mode,
                             json_extract(payload, '$.email') AS email,
                             substr(dedupe_key, 1, length(dedupe_key) - 7) AS k,
                             replace(substr(substr(dedupe_key, 1, length(dedupe_key) - 7),
                                            length(rtrim(substr(dedupe_key, 1, length(dedupe_key) - 7), '0123456789')) + 1), ':', '') AS line
                      FROM jobs WHERE kind = 'enroll' AND dedupe_key LIKE 'woo:%:enroll')
                WHERE course IS NOT NULL AND email IS NOT NULL AND line <> ''
                """)
            // And those whose jobs were pruned: the tombstone's serial key is "email|course".
            try db.execute(sql: """
                INSERT INTO sales (source, order_ref, email, currency, paid_at, lines)
                SELECT 'woocommerce', substr(k, 5, length(k) - 4 - length(line) - 1), substr(serial_key, 1, instr(serial_key, '|') - 1),
                       'XXX', COALESCE(finished_at, CURRENT_TIMESTAMP),
                       json_array(json_object('line', CAST(line AS INTEGER), 'course_id', substr(serial_key, instr(serial_key, '|') + 1),
                                              'quantity', 1, 'fulfilment', 'single', 'gross', '0.00', 'discount', '0.00',
                                              'enroll_key', dedupe_key))
                FROM (SELECT dedupe_key, serial_key, finished_at,
                             substr(dedupe_key, 1, length(dedupe_key) - 7) AS k,
                             replace(substr(substr(dedupe_key, 1, length(dedupe_key) - 7),
                                            length(rtrim(substr(dedupe_key, 1, length(dedupe_key) - 7), '0123456789')) + 1), ':', '') AS line
                      FROM pruned_jobs WHERE kind = 'enroll' AND dedupe_key LIKE 'woo:%:enroll')
                WHERE instr(serial_key, '|') > 1 AND line <> ''
                """)
        }
        migrator.registerMigration("v19: prices and coupons") { db in
            try db.execute(sql: """
                CREATE TABLE prices (
                    course_id TEXT NOT NULL, mode TEXT NOT NULL, currency TEXT NOT NULL,
                    price TEXT NOT NULL,                    -- decimal text, "49.00"
                    updated_at DATETIME NOT NULL, updated_by TEXT NOT NULL,
                    PRIMARY KEY (course_id, mode, currency)
                ) WITHOUT ROWID;
                CREATE TABLE coupons (
                    code TEXT PRIMARY KEY,                  -- upper-cased; never reused
                    kind TEXT NOT NULL,                     -- percent | amount
                    value TEXT NOT NULL,                    -- the percent, or the amount off each line
                    currency TEXT,                          -- an amount's
                    courses TEXT NOT NULL,                  -- JSON array of course runs or prefixes; [] = every course
                    expires TEXT,                           -- the last day, YYYY-MM-DD (UTC)
                    max_uses INTEGER,
                    active INTEGER NOT NULL DEFAULT 1,
                    description TEXT,
                    created_at DATETIME NOT NULL, created_by TEXT NOT NULL
                ) WITHOUT ROWID;
                -- One use per order that named a coupon, reserved in the order's commit: 'held' counts until expires_at
                -- (orders.hold_minutes), 'kept' (paid, or held for review) always, 'released' (declined, cancelled,
                -- rejected) never.
                CREATE TABLE coupon_uses (
                    order_ref TEXT PRIMARY KEY,
                    code TEXT NOT NULL,
                    state TEXT NOT NULL,                    -- held | kept | released
                    expires_at DATETIME NOT NULL,
                    created_at DATETIME NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX coupon_uses_code ON coupon_uses(code, state, expires_at);
                ALTER TABLE orders ADD COLUMN coupon TEXT;
                ALTER TABLE api_tokens ADD COLUMN may_set_prices INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v20: console sessions and job search") { db in
            try db.execute(sql: """
                CREATE TABLE console_sessions (
                    id_hash TEXT PRIMARY KEY,               -- SHA-256 of the cookie's value, never the value
                    token_hash TEXT NOT NULL,               -- the token's own row (a name is reused once revoked): its role
                                                            -- and scope are read from api_tokens at each request
                    csrf TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    last_seen_at DATETIME NOT NULL,
                    ended_at DATETIME
                ) WITHOUT ROWID;
                -- A learner's jobs, for the console's search. Written once, when the job is (the serial key never
                -- changes), so intake pays one more index insert a job and the workers' updates nothing.
                CREATE INDEX jobs_learner ON jobs(serial_key, id);
                """)
        }
        return migrator
    }
}
