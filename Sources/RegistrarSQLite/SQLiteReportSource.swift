import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: ReportSource {
    public func saleLines(courseID: String?) async throws -> [SaleLine] {
        try await read { db in
            // Read through once: an order's lines come whole when one of them is the course's (a refund of the order
            // is spread over all of them). `instr` skips the rows that cannot hold the course before they are parsed.
            let rows = try Row.fetchAll(db, sql: courseID == nil ? "SELECT * FROM sales ORDER BY id" : """
                SELECT * FROM sales WHERE (source, order_ref) IN (SELECT source, order_ref FROM sales WHERE instr(lines, ?) > 0) ORDER BY id
                """, arguments: StatementArguments(courseID.map { [JSONValue.string($0).jsonText] } ?? []))
            var lines = try rows.flatMap(SalesTable.lines)
            if let courseID {
                let orders = Set(lines.filter { $0.courseID == courseID }.map { "\($0.source.rawValue) \($0.orderRef)" })
                lines = lines.filter { orders.contains("\($0.source.rawValue) \($0.orderRef)") }
            }
            return try SalesTable.withOtherItems(lines, in: db)
        }
    }

    public func refunds(courseID: String?) async throws -> [RefundRecord] {
        try await read { db in
            guard let courseID else { return try Row.fetchAll(db, sql: "SELECT * FROM refunds ORDER BY id").map(SalesTable.refund) }
            return try Row.fetchAll(db, sql: """
                SELECT r.* FROM refunds r
                WHERE (r.order_source, r.order_ref) IN (SELECT source, order_ref FROM sales WHERE instr(lines, ?) > 0) ORDER BY r.id
                """, arguments: [JSONValue.string(courseID).jsonText]).map(SalesTable.refund)
        }
    }

    public func refunds(ofOrder orderRef: String, source: SaleLine.Source) async throws -> [RefundRecord] {
        try await read { db in try SalesTable.refunds(source: source, orderRef: orderRef, in: db) }
    }

    public func codeFacts(courseID: String) async throws -> [SeatsReport.CodeFact] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.source, c.state, (SELECT group_concat(r.email, ' ') FROM code_redemptions r WHERE r.code = c.code) AS redeemed_by
                FROM codes c WHERE c.course_id = ?
                """, arguments: [courseID]).map { row in
                let origin: SeatsReport.CodeFact.Origin
                switch row["source"] as String {
                case "invoice": origin = .invoice
                case "contract": origin = .contract
                default: origin = .multiSeat
                }
                let redeemed = (row["redeemed_by"] as String?)?.split(separator: " ").map { $0.lowercased() } ?? []
                return SeatsReport.CodeFact(origin: origin, state: row["state"], redeemedBy: redeemed)
            }
        }
    }

    public func auditFacts(courseID: String) async throws -> EnrollmentAudit.Facts {
        let lines = try await saleLines(courseID: courseID)
        let refunds = try await refunds(courseID: courseID)
        return try await read { db in
            var facts = EnrollmentAudit.Facts(lines: lines, refunds: refunds)
            // The lines' enroll jobs, live or pruned (a pruned one had finished).
            let jobState = try db.cachedStatement(sql: "SELECT id, state, last_error FROM jobs WHERE dedupe_key = ?")
            let pruned = try db.cachedStatement(sql: "SELECT job_id FROM pruned_jobs WHERE dedupe_key = ?")
            for line in lines where line.courseID == courseID {
                guard let key = line.enrollKey else { continue }
                if let row = try Row.fetchOne(jobState, arguments: [key]) {
                    facts.enrollJobs[key] = EnrollmentAudit.JobRef(id: row["id"], state: row["state"], error: row["last_error"])
                } else if let id = try Int64.fetchOne(pruned, arguments: [key]) {
                    facts.enrollJobs[key] = EnrollmentAudit.JobRef(id: id, state: "pruned")
                }
            }
            facts.redemptions = try Row.fetchAll(db, sql: """
                SELECT r.email, r.code, c.state AS code_state, j.id AS job_id, j.state, j.last_error, r.job_id AS recorded_job
                FROM code_redemptions r JOIN codes c ON c.code = r.code LEFT JOIN jobs j ON j.id = r.job_id
                WHERE c.course_id = ?
                """, arguments: [courseID]).map { row in
                let code = (try? RegistrationCode.parse(row["code"] as String).get())?.logSafe ?? "?"
                let job: EnrollmentAudit.JobRef?
                if let id = row["job_id"] as Int64? {
                    job = EnrollmentAudit.JobRef(id: id, state: row["state"], error: row["last_error"])
                } else {
                    job = (row["recorded_job"] as Int64?).map { EnrollmentAudit.JobRef(id: $0, state: "pruned") }
                }
                return EnrollmentAudit.Facts.Redemption(email: (row["email"] as String).lowercased(), code: code, job: job,
                                                        revoked: (row["code_state"] as String) == "void")
            }
            facts.contractLearners = try Row.fetchAll(db, sql: """
                SELECT l.email, l.contract_id FROM contract_learners l JOIN contract_runs r ON r.contract_id = l.contract_id
                WHERE r.course_id = ? AND r.attached = 1 AND l.source = 'attach'
                """, arguments: [courseID]).map { (email: ($0["email"] as String).lowercased(), contractID: $0["contract_id"] as Int64) }
            facts.manual = try Row.fetchAll(db, sql: """
                SELECT id, state, last_error, json_extract(payload, '$.email') AS email FROM jobs
                WHERE dedupe_key >= 'cli:enroll:' AND dedupe_key < 'cli:enroll;' AND json_extract(payload, '$.course_id') = ?1
                UNION ALL
                -- Pruned after jobs.retention_days: the tombstone keeps "email|course" as its serial key.
                SELECT job_id, 'succeeded', NULL, substr(serial_key, 1, length(serial_key) - length(?1) - 1) FROM pruned_jobs
                WHERE dedupe_key >= 'cli:enroll:' AND dedupe_key < 'cli:enroll;' AND kind = 'enroll' AND serial_key LIKE '%|' || ?1
                """, arguments: [courseID]).compactMap { row in
                guard let email = row["email"] as String? else { return nil }
                return (email: email.lowercased(), job: EnrollmentAudit.JobRef(id: row["id"], state: row["state"], error: row["last_error"]))
            }
            return facts
        }
    }

    public func invoiceFacts(courseID: String?) async throws -> [RevenueReport.InvoiceFact] {
        try await read { db in
            var transactions: [Int64: [(amount: Decimal, at: Date)]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT invoice_id, amount, at FROM invoice_transactions ORDER BY id") {
                guard let amount = Money.parse(row["amount"]) else { continue }
                transactions[row["invoice_id"], default: []].append((amount: amount, at: row["at"]))
            }
            let rows = try Row.fetchAll(db, sql: "SELECT id, course_id, currency, total, created_at, voided_at FROM invoices"
                                        + (courseID == nil ? "" : " WHERE course_id = ?"),
                                        arguments: StatementArguments(courseID.map { [$0] } ?? []))
            return rows.map { row in
                RevenueReport.InvoiceFact(courseID: row["course_id"], currency: (row["currency"] as String).uppercased(),
                                          total: Money.parse(row["total"]) ?? 0, createdAt: row["created_at"],
                                          voided: (row["voided_at"] as Date?) != nil, transactions: transactions[row["id"]] ?? [])
            }
        }
    }

    public func gatewayPayments() async throws -> (payments: [Reconciliation.RecordedPayment], orderCurrencies: [String: String]) {
        try await read { db in
            // Every payment the gateway accepted is money it holds, the duplicate of a paid order's included.
            // An accepted review leaves the payment's decision REVIEW: the transaction that paid the order counts too.
            let payments = try Row.fetchAll(db, sql: """
                SELECT p.order_reference, p.transaction_id, p.amount, p.currency, MIN(p.created_at) AS created_at
                FROM payments p JOIN orders o ON o.reference = p.order_reference
                WHERE p.decision = 'ACCEPT' OR p.transaction_id = o.transaction_id
                GROUP BY p.order_reference, p.transaction_id
                """).compactMap { row -> Reconciliation.RecordedPayment? in
                guard let amount = Money.parse(row["amount"] as String? ?? "") else { return nil }
                return Reconciliation.RecordedPayment(orderRef: row["order_reference"], transactionID: row["transaction_id"], amount: amount,
                                                      currency: (row["currency"] as String? ?? "").uppercased(), at: row["created_at"])
            }
            var currencies: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT reference, currency FROM orders") { currencies[row["reference"]] = (row["currency"] as String).uppercased() }
            return (payments, currencies)
        }
    }

    public func emails(forUsernames usernames: [String]) async throws -> [String: String] {
        guard !usernames.isEmpty else { return [:] }
        let wanted = Set(usernames)
        return try await read { db in
            // One pass over the cache beats a lookup per name for a course's whole list; the cache holds learners
            // Registrar enrolled, far fewer than a big course's enrollments are rows.
            var found: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT email, username FROM learner_accounts") where wanted.contains(row["username"]) {
                found[row["username"]] = (row["email"] as String).lowercased()
            }
            return found
        }
    }
}
