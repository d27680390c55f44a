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

/// `registrar-bench console`: a month of production-shaped history written straight into a fresh database,
/// for timing the web console's pages on it. Benchmark-only, like the helpers above: nothing else calls these.
extension SQLiteStore {
    /// Fills a fresh (empty) database with `jobs` jobs (a multiple of 20) and what goes with them, spread over the
    /// 28 days before `now` (inside every retention, so `serve` prunes nothing while it is measured), in four
    /// transactions. Job n has id n. Per block of 20 jobs (`g = n % 20`):
    ///
    /// - 0…13: enroll, store `main`, order 100000+n (job 1 is the second line of job 0's order), line n;
    ///   14, 15: enroll, store `eu`, order 20000+n; 16, 17: enroll, the two lines of hosted-checkout order
    ///   `RG-…` (`order:REF:0:enroll`, `order:REF:1:enroll`); 18: unenroll of job n−18's seat (same learner,
    ///   course, order and line); 19: a `woocommerce.refund` (even blocks) or a seat-codes `mail` job.
    /// - States from a hash of n: 0.4 % failed (five LMS errors, a WooCommerce 404, unconfigured mail), 0.3 % queued
    ///   waiting out a backoff (due in a day, so no worker takes one), 0.03 % cancelled, ≈ 0.15 % of enrolls
    ///   superseded, the rest succeeded.
    /// - `learners` distinct learners (each bought ≈ jobs/learners seats, days apart), 50 course runs of uneven
    ///   popularity (`course-v1:BenchX+C00+2026_T1` … `C49`).
    /// - 5 deliveries per block (≈ jobs/4): one per order of jobs 0+1, 2, 4 and 14 (accepted, `delivery_id` set on
    ///   their jobs, `job_ids` listing them), and one that made nothing — ignored or stale, or in the last six days
    ///   two in three of these rejected (bad signature, ≈ 3 % of all). Each body is `deliveryBody` with `{order}`
    ///   and `{email}` replaced.
    /// - One attempt row per try (≈ 1 per job), ≈ 500 operator actions (cancels and replays), a `woo_orders` row per
    ///   store order and an `orders` row per checkout order, ≈ 20 of each flagged for attention.
    public func benchmarkFillConsole(jobs: Int, learners: Int, now: Date, deliveryBody: String) async throws {
        precondition(jobs >= 20 && jobs % 20 == 0 && learners >= 1)
        let today = now.timeIntervalSince1970 / 86_400 + 2_440_587.5   // Julian day
        let first = today - 28
        let step = 28.0 / Double(jobs)
        let deliveries = 5 * (jobs / 20 + 1)
        try await write { db in
            try db.execute(sql: ConsoleHistory.deliveriesSQL,
                           arguments: [deliveries, first, step, learners, jobs, today - 6, deliveryBody])
        }
        try await write { db in
            try db.execute(sql: ConsoleHistory.jobsSQL, arguments: [jobs, first, step, learners, today + 1])
        }
        try await write { db in
            try db.execute(sql: ConsoleHistory.attemptsSQL)
            try db.execute(sql: ConsoleHistory.actionsSQL)
        }
        try await write { db in
            try db.execute(sql: ConsoleHistory.storeOrdersSQL, arguments: [jobs, first, step])
            try db.execute(sql: ConsoleHistory.checkoutOrdersSQL, arguments: [jobs / 20 - 1, first, step, learners])
        }
    }
}

/// The SQL of `benchmarkFillConsole`. The same expressions name a job's learner, course and checkout reference
/// wherever they appear, so a delivery, its jobs and their order agree.
private enum ConsoleHistory {
    /// A multiplicative hash of `n`: 0 ..< `buckets`, from the high bits, so it does not follow n % 20.
    static func hash(_ n: String, _ multiplier: Int, buckets: Int) -> String {
        "((\(n)) * \(multiplier) % 4294967296 / \(4_294_967_296 / buckets + 1))"
    }

    /// The learner of seat m (?4 = learners): learner k is `learner<k>@` one of four domains.
    static func email(_ m: String) -> String {
        let k = "(((\(m)) * 104729) % ?4)"
        return "('learner' || \(k) || '@' || CASE \(k) % 4 WHEN 0 THEN 'example.com' WHEN 1 THEN 'mail.example.org' "
            + "WHEN 2 THEN 'uni.example.edu' ELSE 'corp.example.net' END)"
    }

    /// The course run of job n: C00 (most bought) … C49.
    static func course(_ n: String) -> String {
        let x = hash(n, 3_266_489_917, buckets: 1000)
        return "printf('course-v1:BenchX+C%02d+2026_T1', \(x) * \(x) / 20000)"
    }

    /// A hosted-checkout reference, "RG-" and 12 hexadecimal digits, of the order whose first line is job m.
    static func reference(_ m: String) -> String { "printf('RG-%012X', ((\(m)) * 2654435761) % 281474976710656)" }

    static func time(_ julianDay: String) -> String { "strftime('%Y-%m-%d %H:%M:%f', \(julianDay))" }

    /// ?1 deliveries, ?2 first day, ?3 days per job, ?4 learners, ?5 jobs, ?6 rejected ones only after this day, ?7 body.
    static let deliveriesSQL = """
        WITH RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < ?1),
        d1 AS (SELECT k, (k - 1) / 5 AS b, (k - 1) % 5 AS s,
                      20 * ((k - 1) / 5) + CASE (k - 1) % 5 WHEN 0 THEN 0 WHEN 1 THEN 2 WHEN 2 THEN 4 WHEN 3 THEN 14 ELSE 19 END AS n0
               FROM seq),
        d2 AS (SELECT *, CASE WHEN s = 3 THEN 'eu' ELSE 'main' END AS store,
                      CASE WHEN s = 3 THEN 20000 + n0 WHEN s = 4 THEN 100000 + n0 - 19 ELSE 100000 + n0 END AS o,
                      CASE WHEN s = 4 THEN n0 - 19 ELSE n0 END AS m,
                      ?2 + max(n0, 1) * ?3 AS jd,
                      CASE WHEN s = 0 AND n0 = 0 THEN '[1]'
                           WHEN s = 0 AND n0 + 1 <= ?5 THEN '[' || n0 || ',' || (n0 + 1) || ']'
                           WHEN s < 4 AND n0 <= ?5 THEN '[' || n0 || ']'
                           ELSE '[]' END AS job_ids
               FROM d1),
        d3 AS (SELECT *, \(email("m")) AS email, (s = 4 AND jd > ?6 AND b % 3 <> 0) AS rejected FROM d2)
        INSERT INTO deliveries (id, source, channel, received_at, headers, body, body_size, body_sha256, verdict, http_status, reason, job_ids)
        SELECT k, 'woocommerce', store, \(time("jd")),
               json_object('content-type', 'application/json', 'user-agent', 'WooCommerce/10.3.4 Hookshot (WordPress/6.8.1)',
                           'x-wc-webhook-delivery-id', CAST(k AS TEXT), 'x-wc-webhook-event', 'updated', 'x-wc-webhook-id', '3',
                           'x-wc-webhook-resource', 'order', 'x-wc-webhook-signature', printf('%043d=', k * 7919),
                           'x-wc-webhook-source', 'https://shop.example.com/', 'x-wc-webhook-topic', 'order.updated'),
               CAST(replace(replace(?7, '{order}', o), '{email}', email) AS BLOB),
               length(CAST(replace(replace(?7, '{order}', o), '{email}', email) AS BLOB)),
               CASE WHEN rejected THEN printf('%064x', k * 2654435761) END,
               CASE WHEN rejected THEN 'rejected' WHEN job_ids <> '[]' THEN 'accepted' WHEN b % 4 = 0 THEN 'stale' ELSE 'ignored' END,
               CASE WHEN rejected THEN 401 ELSE 200 END,
               CASE WHEN rejected THEN 'bad_signature: X-WC-Webhook-Signature does not match the body for store "main" (check its webhook secret)'
                    WHEN job_ids <> '[]' THEN NULL
                    WHEN b % 4 = 0 THEN 'stale: older than the state of the order already taken'
                    ELSE 'nothing new: every course line of the order already has its job' END,
               job_ids
        FROM d3
        """

    /// ?1 jobs, ?2 first day, ?3 days per job, ?4 learners, ?5 the queued jobs' due day.
    static let jobsSQL = """
        WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1),
        j1 AS (SELECT n, n % 20 AS g, n / 20 AS b,
                      \(hash("n", 2_654_435_761, buckets: 10_000)) AS h,
                      \(hash("n", 2_246_822_519, buckets: 100)) AS e,
                      CASE n % 20 WHEN 1 THEN n - 1 WHEN 17 THEN n - 1 WHEN 18 THEN n - 18 WHEN 19 THEN n - 19 ELSE n END AS m,
                      CASE n % 20 WHEN 18 THEN n - 18 ELSE n END AS cn,
                      ?2 + n * ?3 AS jd
               FROM seq),
        j2 AS (SELECT *, CASE WHEN g = 18 THEN 'unenroll' WHEN g = 19 AND b % 2 = 0 THEN 'woocommerce.refund' WHEN g = 19 THEN 'mail'
                              ELSE 'enroll' END AS kind,
                      CASE WHEN g IN (14, 15) THEN 'eu' ELSE 'main' END AS store,
                      CASE WHEN g IN (14, 15) THEN 20000 + n ELSE 100000 + m END AS o,
                      \(email("m")) AS email, \(course("cn")) AS course, \(time("jd")) AS t
               FROM j1),
        j3 AS (SELECT *, CASE WHEN h < 40 THEN 'failed' WHEN h < 70 THEN 'queued' WHEN h < 73 THEN 'cancelled'
                              WHEN h < 90 AND kind = 'enroll' THEN 'superseded' ELSE 'succeeded' END AS state
               FROM j2)
        INSERT INTO jobs (id, kind, state, dedupe_key, serial_key, payload, attempts, max_attempts, run_at, last_error, last_http_status,
                          result, source, delivery_id, created_at, updated_at, finished_at)
        SELECT n, kind, state,
               CASE WHEN g IN (16, 17) THEN 'order:' || \(reference("m")) || ':' || (g - 16) || ':enroll'
                    WHEN g = 18 THEN 'woo:main:' || o || ':' || m || ':unenroll'
                    WHEN kind = 'woocommerce.refund' THEN 'woo:main:' || o || ':refund:' || (500000 + b)
                    WHEN kind = 'mail' THEN 'woo:main:' || o || ':' || n || ':codes:5'
                    ELSE 'woo:' || store || ':' || o || ':' || n || ':enroll' END,
               CASE WHEN kind IN ('enroll', 'unenroll') THEN email || '|' || course WHEN kind = 'woocommerce.refund' THEN 'woo:main:' || o END,
               CASE kind
                   WHEN 'enroll' THEN '{"course_id":"' || course || '","email":"' || email || '","mode":"verified","order_reference":"'
                                      || CASE WHEN g IN (16, 17) THEN \(reference("m")) ELSE o END || '"}'
                   WHEN 'unenroll' THEN '{"course_id":"' || course || '","email":"' || email || '","order_reference":"' || o || '"}'
                   WHEN 'woocommerce.refund' THEN '{"store":"main","order_id":' || o || ',"order_number":"' || o || '","refund_id":'
                                                  || (500000 + b) || ',"email":"' || email || '","lines":[{"line_id":' || m || ',"quantity":1}]}'
                   ELSE '{"to":["' || email || '"],"subject":"Your 5 registration codes","text":"Your codes for ' || course || ' are attached."}'
               END,
               CASE state WHEN 'failed' THEN CASE WHEN kind IN ('enroll', 'unenroll') AND (e < 45 OR e >= 85) THEN 25 ELSE 1 END
                          WHEN 'queued' THEN 3 WHEN 'cancelled' THEN 2 WHEN 'superseded' THEN 0 ELSE 1 END,
               25,
               CASE state WHEN 'queued' THEN \(time("?5")) ELSE t END,
               CASE state
                   WHEN 'failed' THEN CASE kind
                       WHEN 'mail' THEN 'mail is not configured (mail.smtp_url): set it and replay this job; the codes are in `registrar codes list`'
                       WHEN 'woocommerce.refund' THEN 'HTTP 404 from WooCommerce store main: order ' || o || ' not found'
                       ELSE CASE WHEN e < 45 THEN 'attempts exhausted: HTTP 503 from the LMS: Service Unavailable'
                                 WHEN e < 70 THEN 'HTTP 400 from the LMS: enrollment is closed for course-v1:BenchX+C0' || (e % 3) || '+2026_T1'
                                 WHEN e < 85 THEN 'HTTP 403 from the LMS: user ' || email || ' is not active'
                                 WHEN e < 95 THEN 'attempts exhausted: timed out after 30 s waiting for the LMS'
                                 ELSE 'attempts exhausted: HTTP 401 from the LMS: invalid_client (check openedx.client_secret)' END
                       END
                   WHEN 'queued' THEN 'HTTP 503 from the LMS: Service Unavailable; retrying'
                   WHEN 'cancelled' THEN 'HTTP 503 from the LMS: Service Unavailable; retrying'
               END,
               CASE state
                   WHEN 'failed' THEN CASE kind WHEN 'mail' THEN NULL WHEN 'woocommerce.refund' THEN 404
                                      ELSE CASE WHEN e < 45 THEN 503 WHEN e < 70 THEN 400 WHEN e < 85 THEN 403 WHEN e < 95 THEN NULL ELSE 401 END END
                   WHEN 'queued' THEN 503 WHEN 'cancelled' THEN 503
                   WHEN 'succeeded' THEN CASE WHEN kind IN ('enroll', 'unenroll') THEN 200 END
               END,
               CASE WHEN state = 'succeeded' THEN CASE kind WHEN 'enroll' THEN 'enrolled' WHEN 'unenroll' THEN 'unenrolled'
                                                            WHEN 'mail' THEN 'sent to 1 recipient' ELSE 'unenrolled 1 line' END END,
               CASE WHEN g IN (16, 17) THEN 'cybersource:bench-profile' ELSE 'woocommerce:' || store END,
               CASE g WHEN 0 THEN 5 * b + 1 WHEN 1 THEN 5 * b + 1 WHEN 2 THEN 5 * b + 2 WHEN 4 THEN 5 * b + 3 WHEN 14 THEN 5 * b + 4 END,
               t, t, CASE WHEN state = 'queued' THEN NULL ELSE t END
        FROM j3
        """

    /// One row per try, two minutes apart; the last is the outcome the job's state records.
    static let attemptsSQL = """
        WITH RECURSIVE tries(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM tries WHERE a < 25)
        INSERT INTO job_attempts (job_id, attempt, worker, started_at, duration_ms, outcome, http_status, error)
        SELECT j.id, tries.a, 'serve:' || (j.id % 3) || ':worker-' || (j.id % 16),
               strftime('%Y-%m-%d %H:%M:%f', julianday(j.created_at) + (tries.a - 1) * 2.0 / 1440),
               80 + (j.id * 7 + tries.a) % 400,
               CASE WHEN tries.a < j.attempts OR j.state IN ('queued', 'cancelled') THEN 'transient'
                    WHEN j.state = 'succeeded' THEN 'succeeded'
                    WHEN j.attempts = 1 THEN 'permanent' ELSE 'transient' END,
               CASE WHEN j.state = 'succeeded' AND tries.a = j.attempts THEN j.last_http_status
                    WHEN j.state = 'succeeded' THEN 503 ELSE j.last_http_status END,
               CASE WHEN j.state = 'succeeded' THEN NULL ELSE j.last_error END
        FROM jobs j JOIN tries ON tries.a <= j.attempts
        ORDER BY j.id, tries.a
        """

    /// Every cancel, and a replay of one failed job in 17 (which failed again).
    static let actionsSQL = """
        INSERT INTO operator_actions (at, actor, action, job_id, detail)
        SELECT updated_at, CASE id % 3 WHEN 0 THEN 'console:alice' WHEN 1 THEN 'cli:root' ELSE 'api:ops-bot' END,
               CASE state WHEN 'cancelled' THEN 'cancel' ELSE 'replay' END, id,
               CASE state WHEN 'cancelled' THEN 'was queued' ELSE 'was failed' END
        FROM jobs WHERE state = 'cancelled' OR (state = 'failed' AND id % 17 = 0)
        ORDER BY id
        """

    /// ?1 jobs, ?2 first day, ?3 days per job: the store orders' memory, a few flagged.
    static let storeOrdersSQL = """
        WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
        INSERT INTO woo_orders (store, order_id, newest_modified_gmt, status, updated_at, attention, attention_detail, attention_at, total, currency)
        SELECT CASE WHEN n % 20 IN (14, 15) THEN 'eu' ELSE 'main' END, CASE WHEN n % 20 IN (14, 15) THEN 20000 + n ELSE 100000 + n END,
               strftime('%Y-%m-%dT%H:%M:%S', jd), 'completed', \(time("jd")),
               CASE WHEN n % 50000 = 2 THEN 'refund_exceeds_unredeemed_seats' END,
               CASE WHEN n % 50000 = 2 THEN 'line ' || n || ': 3 seats refunded, 1 left unredeemed' END,
               CASE WHEN n % 50000 = 2 THEN \(time("jd")) END,
               '49.00', 'EUR'
        FROM (SELECT n, ?2 + n * ?3 AS jd FROM seq WHERE n % 20 NOT IN (1, 16, 17, 18, 19))
        """

    /// ?1 last block, ?2 first day, ?3 days per job, ?4 learners: one order per checkout pair of jobs, a few flagged.
    static let checkoutOrdersSQL = """
        WITH RECURSIVE seq(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM seq WHERE b < ?1)
        INSERT INTO orders (reference, email, currency, total, items, status, attention, profile_id, transaction_id,
                            created_at, updated_at, created_by)
        SELECT \(reference("n")), \(email("n")), 'USD', '98.00',
               '[{"course_id":"' || \(course("n")) || '","mode":"verified","quantity":1,"unit_price":"49.00"},'
                   || '{"course_id":"' || \(course("n + 1")) || '","mode":"verified","quantity":1,"unit_price":"49.00"}]',
               CASE WHEN b % 4000 = 3 THEN 'in_review' ELSE 'paid' END,
               CASE WHEN b % 4000 = 3 THEN 'review' WHEN b % 5000 = 4 THEN 'duplicate_payment' END,
               'bench-profile', printf('%022d', n * 7919), \(time("jd")), \(time("jd")), 'storefront-web'
        FROM (SELECT b, 20 * b + 16 AS n, ?2 + (20 * b + 16) * ?3 AS jd FROM seq)
        """
}
