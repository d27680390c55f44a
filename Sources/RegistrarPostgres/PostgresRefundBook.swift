import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: RefundBook {
    public func recordRefund(_ refund: GatewayRefund, actor: String) async throws -> RefundOutcome {
        let outcome = try await write { tx in try await Self.record(refund, actor: actor, in: tx) }
        jobsMayRun(outcome.jobs.contains(where: \.created))
        return outcome
    }

    public func recordRefunds(_ refunds: [GatewayRefund], actor: String) async throws -> [RefundOutcome] {
        let outcomes = try await write { tx -> [RefundOutcome] in
            var outcomes: [RefundOutcome] = []
            for refund in refunds {
                func refused(_ reason: String) -> RefundOutcome {
                    RefundOutcome(refund: RefundRecord(origin: refund.origin, orderSource: .cybersource, orderRef: refund.orderRef,
                                                       line: refund.line, amount: refund.amount, currency: refund.currency ?? "",
                                                       reference: refund.reference, at: tx.now),
                                  alreadyRecorded: false, refused: reason)
                }
                // Refused refunds change nothing (each is decided before anything is written), so the others go on.
                do {
                    outcomes.append(try await Self.record(refund, actor: actor, in: tx))
                } catch let error as RefundError {
                    outcomes.append(refused(error.description))
                } catch let error as OrderError {
                    outcomes.append(refused(error.description))
                }
            }
            return outcomes
        }
        jobsMayRun(outcomes.contains { $0.jobs.contains(where: \.created) })
        return outcomes
    }

    public func attributeStoreRefund(store: String, orderID: Int, refundID: Int, amounts: [Int: Decimal]) async throws {
        guard !amounts.isEmpty else { return }
        let orderRef = WooKeys.saleReference(store: store, order: orderID)
        try await write { tx in
            try await tx.lock(WooOrders.lockKey(store: store, orderID: orderID))
            let prefix = "\(refundID):"
            guard try await tx.value("""
                SELECT count(*) FROM refunds WHERE order_source = 'woocommerce' AND order_ref = \(orderRef)
                  AND reference >= \(prefix) AND reference < \("\(refundID);")
                """, as: Int.self) == 0 else { return }
            let base = try await tx.row("""
                SELECT id, amount, currency, at FROM refunds WHERE order_source = 'woocommerce' AND order_ref = \(orderRef)
                  AND reference = \(String(refundID))
                """)
            let saleCurrency = try await tx.value("SELECT currency FROM woo_orders WHERE store = \(store) AND order_id = \(orderID)",
                                                  as: String?.self) ?? nil
            guard let currency = try base?.value("currency", as: String.self) ?? saleCurrency else { return }
            let at: Date = try base?.value("at") ?? tx.now
            let lines = amounts.sorted { $0.key < $1.key }.map { line, amount in
                RefundRecord(origin: .woocommerce, orderSource: .woocommerce, orderRef: orderRef, line: line, amount: amount,
                             currency: currency, reference: "\(refundID):\(line)", at: at)
            }
            try await SalesRows.record(lines, at: at, by: "woocommerce:\(store)", in: tx)
            if let base, let whole = Money.parse(try base.value("amount", as: String.self)) {
                let rest = max(0, whole - amounts.values.reduce(0, +))
                try await tx.run("UPDATE refunds SET amount = \(Money.format(rest)) WHERE id = \(try base.value("id", as: Int64.self))")
            } else {
                // The order's own row holds what the lines do not (nothing, here), so that the order's next delivery,
                // listing this refund again, finds it recorded instead of adding the whole amount.
                try await SalesRows.record([RefundRecord(origin: .woocommerce, orderSource: .woocommerce, orderRef: orderRef, amount: 0,
                                                         currency: currency, reference: String(refundID), at: at)],
                                           at: at, by: "woocommerce:\(store)", in: tx)
            }
        }
    }

    /// Decides and applies one refund inside the caller's transaction.
    static func record(_ refund: GatewayRefund, actor: String, in tx: Tx) async throws -> RefundOutcome {
        guard let order = try await OrderRows.order(refund.orderRef, lock: true, in: tx) else { throw OrderError.notFound(refund.orderRef) }
        let lines = try await SalesRows.checkoutLines(orderRef: refund.orderRef, in: tx)
        let earlier = try await SalesRows.refunds(source: .cybersource, orderRef: refund.orderRef, in: tx)
        let taken = try await SalesRows.taken(orderRef: refund.orderRef, in: tx)
        switch GatewayRefundRules.decide(refund, orderCurrency: order.currency, orderStatus: order.status.rawValue, lines: lines,
                                         refunds: earlier, taken: taken, at: tx.now) {
        case .refused(let reason):
            throw RefundError.refused(reason)
        case .alreadyRecorded(let record):
            return RefundOutcome(refund: record, alreadyRecorded: true)
        case .record(let record, let givesBack):
            try await SalesRows.record([record], at: tx.now, by: actor, in: tx)
            let source = "refund:\(actor)"
            var jobs: [EnqueuedJob] = []
            var notes: [String] = []
            for line in givesBack {
                switch line.fulfilment {
                case .single, .buyer:
                    if let job = try line.unenrollJob(source: source) {
                        jobs += try await tx.insert([job], deliveryID: nil)
                        notes.append("line \(line.line) (\(line.courseID)) refunded whole: \(line.email) is unenrolled")
                    }
                case .codes:
                    let outcome = try await Seats.apply(SeatLine(
                        sourceReference: OrderFulfilment.seatSource(reference: refund.orderRef, index: line.line), courseID: line.courseID,
                        mode: line.mode, seats: 0, buyerEmail: line.email, orderNumber: refund.orderRef, lineID: line.line, actor: source,
                        voidReason: "order \(refund.orderRef) line \(line.line) refunded",
                        mailKey: { OrderFulfilment.seatMailKey(reference: refund.orderRef, index: line.line, liveAfter: $0) }),
                        deliveryID: nil, in: tx)
                    notes += outcome.notes
                    if outcome.shortfall != nil {
                        try await tx.run("""
                            UPDATE orders SET attention = \(OrderAttention.refundExceedsUnredeemedSeats.rawValue), updated_at = \(tx.now)
                            WHERE reference = \(refund.orderRef)
                            """)
                    }
                case .other:
                    break
                case .codePayment:
                    notes.append("line \(line.line) (\(line.courseID)) paid for a code's seat: the learner keeps it until `registrar codes revoke`")
                }
            }
            if record.surplus { notes.append("gives back the payment taken beyond the order's amount: no seat is touched") }
            try await tx.audit(actor: actor, action: "order.refund", jobID: nil,
                               detail: "order \(refund.orderRef): \(Money.format(record.amount)) \(record.currency)"
                                   + (record.line.map { " on line \($0)" } ?? "") + (record.reference.map { " (\($0))" } ?? "")
                                   + " recorded from \(record.origin.rawValue)")
            return RefundOutcome(refund: record, alreadyRecorded: false, jobs: jobs, notes: notes)
        }
    }
}

extension PostgresStore: ReportSource {
    public func saleLines(courseID: String?) async throws -> [SaleLine] {
        try await snapshot { tx in try await Self.saleLines(courseID: courseID, in: tx) }
    }

    private static func saleLines(courseID: String?, in tx: Tx) async throws -> [SaleLine] {
        // An order's lines come whole when one of them is the course's (a refund of the order is spread over all of
        // them). strpos skips the rows that cannot hold the course before they are parsed.
        let rows = if let courseID {
            try await tx.rows("""
                SELECT * FROM sales WHERE (source, order_ref) IN (
                    SELECT source, order_ref FROM sales WHERE strpos(lines, \(JSONValue.string(courseID).jsonText)) > 0) ORDER BY id
                """)
        } else {
            try await tx.rows("SELECT * FROM sales ORDER BY id")
        }
        var lines = try rows.flatMap(SalesRows.lines)
        if let courseID {
            let orders = Set(lines.filter { $0.courseID == courseID }.map { "\($0.source.rawValue) \($0.orderRef)" })
            lines = lines.filter { orders.contains("\($0.source.rawValue) \($0.orderRef)") }
        }
        return try await SalesRows.withOtherItems(lines, in: tx)
    }

    public func refunds(courseID: String?) async throws -> [RefundRecord] {
        try await snapshot { tx in try await Self.refunds(courseID: courseID, in: tx) }
    }

    private static func refunds(courseID: String?, in tx: Tx) async throws -> [RefundRecord] {
        guard let courseID else { return try await tx.rows("SELECT * FROM refunds ORDER BY id").map(SalesRows.refund) }
        return try await tx.rows("""
            SELECT r.* FROM refunds r
            WHERE (r.order_source, r.order_ref) IN (
                SELECT source, order_ref FROM sales WHERE strpos(lines, \(JSONValue.string(courseID).jsonText)) > 0) ORDER BY r.id
            """).map(SalesRows.refund)
    }

    public func refunds(ofOrder orderRef: String, source: SaleLine.Source) async throws -> [RefundRecord] {
        try await snapshot { tx in try await SalesRows.refunds(source: source, orderRef: orderRef, in: tx) }
    }

    public func codeFacts(courseID: String) async throws -> [SeatsReport.CodeFact] {
        try await snapshot { tx in
            try await tx.rows("""
                SELECT c.source, c.state, (SELECT string_agg(r.email, ' ') FROM code_redemptions r WHERE r.code = c.code) AS redeemed_by
                FROM codes c WHERE c.course_id = \(courseID)
                """).map { r in
                let origin: SeatsReport.CodeFact.Origin
                switch try r.value("source", as: String.self) {
                case "invoice": origin = .invoice
                case "contract": origin = .contract
                default: origin = .multiSeat
                }
                let redeemed = try r.value("redeemed_by", as: String?.self)?.split(separator: " ").map { $0.lowercased() } ?? []
                return SeatsReport.CodeFact(origin: origin, state: try r.value("state"), redeemedBy: redeemed)
            }
        }
    }

    public func auditFacts(courseID: String) async throws -> EnrollmentAudit.Facts {
        try await snapshot { tx in
            let lines = try await Self.saleLines(courseID: courseID, in: tx)
            var facts = EnrollmentAudit.Facts(lines: lines, refunds: try await Self.refunds(courseID: courseID, in: tx))
            // The lines' enroll jobs, live or pruned (a pruned one had finished).
            for line in lines where line.courseID == courseID {
                guard let key = line.enrollKey else { continue }
                if let row = try await tx.row("SELECT id, state, last_error FROM jobs WHERE dedupe_key = \(key)") {
                    facts.enrollJobs[key] = EnrollmentAudit.JobRef(id: try row.value("id"), state: try row.value("state"),
                                                                   error: try row.value("last_error"))
                } else if let id = try await tx.value("SELECT job_id FROM pruned_jobs WHERE dedupe_key = \(key)", as: Int64.self) {
                    facts.enrollJobs[key] = EnrollmentAudit.JobRef(id: id, state: "pruned")
                }
            }
            facts.redemptions = try await tx.rows("""
                SELECT r.email, r.code, c.state AS code_state, j.id AS job_id, j.state, j.last_error, r.job_id AS recorded_job
                FROM code_redemptions r JOIN codes c ON c.code = r.code LEFT JOIN jobs j ON j.id = r.job_id
                WHERE c.course_id = \(courseID)
                """).map { r in
                let code = (try? RegistrationCode.parse(try r.value("code", as: String.self)).get())?.logSafe ?? "?"
                let job: EnrollmentAudit.JobRef?
                if let id = try r.value("job_id", as: Int64?.self) {
                    job = EnrollmentAudit.JobRef(id: id, state: try r.value("state"), error: try r.value("last_error"))
                } else {
                    job = try r.value("recorded_job", as: Int64?.self).map { EnrollmentAudit.JobRef(id: $0, state: "pruned") }
                }
                return EnrollmentAudit.Facts.Redemption(email: try r.value("email", as: String.self).lowercased(), code: code, job: job,
                                                        revoked: try r.value("code_state", as: String.self) == "void")
            }
            facts.contractLearners = try await tx.rows("""
                SELECT l.email, l.contract_id FROM contract_learners l JOIN contract_runs r ON r.contract_id = l.contract_id
                WHERE r.course_id = \(courseID) AND r.attached AND l.source = 'attach'
                """).map { (email: try $0.value("email", as: String.self).lowercased(), contractID: try $0.value("contract_id", as: Int64.self)) }
            facts.manual = try await tx.rows("""
                SELECT id, state, last_error, payload ->> 'email' AS email FROM jobs
                WHERE dedupe_key >= 'cli:enroll:' AND dedupe_key < 'cli:enroll;' AND payload ->> 'course_id' = \(courseID)
                UNION ALL
                -- Pruned after jobs.retention_days: the tombstone keeps "email|course" as its serial key.
                SELECT job_id, 'succeeded', NULL, left(serial_key, length(serial_key) - length(\(courseID)) - 1) FROM pruned_jobs
                WHERE dedupe_key >= 'cli:enroll:' AND dedupe_key < 'cli:enroll;' AND kind = 'enroll'
                  AND right(serial_key, length(\(courseID)) + 1) = '|' || \(courseID)
                """).compactMap { r in
                guard let email = try r.value("email", as: String?.self) else { return nil }
                return (email: email.lowercased(), job: EnrollmentAudit.JobRef(id: try r.value("id"), state: try r.value("state"),
                                                                                error: try r.value("last_error")))
            }
            return facts
        }
    }

    public func invoiceFacts(courseID: String?) async throws -> [RevenueReport.InvoiceFact] {
        try await snapshot { tx in
            var transactions: [Int64: [(amount: Decimal, at: Date)]] = [:]
            for r in try await tx.rows("SELECT invoice_id, amount, at FROM invoice_transactions ORDER BY id") {
                guard let amount = Money.parse(try r.value("amount", as: String.self)) else { continue }
                transactions[try r.value("invoice_id"), default: []].append((amount: amount, at: try r.value("at")))
            }
            let rows = if let courseID {
                try await tx.rows("SELECT id, course_id, currency, total, created_at, voided_at FROM invoices WHERE course_id = \(courseID)")
            } else {
                try await tx.rows("SELECT id, course_id, currency, total, created_at, voided_at FROM invoices")
            }
            return try rows.map { r in
                RevenueReport.InvoiceFact(courseID: try r.value("course_id"), currency: try r.value("currency", as: String.self).uppercased(),
                                          total: Money.parse(try r.value("total")) ?? 0, createdAt: try r.value("created_at"),
                                          voided: try r.value("voided_at", as: Date?.self) != nil,
                                          transactions: transactions[try r.value("id")] ?? [])
            }
        }
    }

    public func gatewayPayments() async throws -> (payments: [Reconciliation.RecordedPayment], orderCurrencies: [String: String]) {
        try await snapshot { tx in
            // Every payment the gateway accepted is money it holds, the duplicate of a paid order's included.
            // An accepted review leaves the payment's decision REVIEW: the transaction that paid the order counts too.
            let payments = try await tx.rows("""
                SELECT p.order_reference, p.transaction_id, min(p.amount) AS amount, min(p.currency) AS currency,
                       min(p.created_at) AS created_at
                FROM payments p JOIN orders o ON o.reference = p.order_reference
                WHERE p.decision = 'ACCEPT' OR p.transaction_id = o.transaction_id
                GROUP BY p.order_reference, p.transaction_id
                """).compactMap { r -> Reconciliation.RecordedPayment? in
                guard let amount = Money.parse(try r.value("amount", as: String?.self) ?? "") else { return nil }
                return Reconciliation.RecordedPayment(orderRef: try r.value("order_reference"), transactionID: try r.value("transaction_id"),
                                                      amount: amount, currency: (try r.value("currency", as: String?.self) ?? "").uppercased(),
                                                      at: try r.value("created_at"))
            }
            var currencies: [String: String] = [:]
            for r in try await tx.rows("SELECT reference, currency FROM orders") {
                currencies[try r.value("reference")] = try r.value("currency", as: String.self).uppercased()
            }
            return (payments, currencies)
        }
    }

    public func emails(forUsernames usernames: [String]) async throws -> [String: String] {
        guard !usernames.isEmpty else { return [:] }
        return try await snapshot { tx in
            var found: [String: String] = [:]
            for r in try await tx.rows("SELECT email, username FROM learner_accounts WHERE username = ANY(\(Array(Set(usernames))))") {
                found[try r.value("username")] = try r.value("email", as: String.self).lowercased()
            }
            return found
        }
    }
}
