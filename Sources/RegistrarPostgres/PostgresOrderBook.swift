import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: OrderBook {
    @discardableResult
    public func createOrder(_ order: NewOrder) async throws -> Order {
        let (stored, jobs) = try await write { tx -> (Order, [EnqueuedJob]) in
            // The reference may be new: two storefront calls with it take turns, and the second is refused.
            try await tx.lock("order:" + order.reference)
            if try await tx.exists("SELECT 1 FROM orders WHERE reference = \(order.reference)") {
                throw OrderError.referenceTaken(order.reference)
            }
            var priced = order
            if let typed = order.coupon {
                // Counted and reserved in this one SERIALIZABLE commit: racing orders cannot both take the last use.
                let reserved = try await CouponUses.reserve(typed, for: order, in: tx)
                (priced.items, priced.total, priced.coupon) = (reserved.items, reserved.total, reserved.code)
            }
            try await OrderRows.insert(priced, in: tx)
            var jobs: [EnqueuedJob] = []
            if priced.total == 0 {
                // Nothing to pay (a 100 % coupon, a free seat): paid now, fulfilled like any paid order.
                try await tx.run("UPDATE orders SET status = 'paid' WHERE reference = \(priced.reference)")
                guard let paid = try await OrderRows.order(priced.reference, in: tx) else { throw StoreError.corrupt("order \(priced.reference) vanished") }
                jobs = try await OrderRows.fulfil(paid, source: "checkout:free", deliveryID: nil, in: tx)
            }
            guard let stored = try await OrderRows.order(priced.reference, in: tx) else { throw StoreError.corrupt("order \(priced.reference) vanished") }
            return (stored, jobs)
        }
        jobsMayRun(jobs.contains(where: \.created))
        return stored
    }

    public func order(reference: String) async throws -> Order? {
        try await snapshot { tx in try await OrderRows.order(reference, in: tx) }
    }

    public func orders(attentionOnly: Bool, limit: Int) async throws -> [Order] {
        try await snapshot { tx in
            try await tx.rows("""
                SELECT * FROM orders \(unescaped: attentionOnly ? "WHERE attention IS NOT NULL" : "") ORDER BY created_at DESC LIMIT \(limit)
                """).map(OrderRows.order)
        }
    }

    public func payments(ofOrder reference: String) async throws -> [Payment] {
        try await snapshot { tx in
            try await tx.rows("SELECT * FROM payments WHERE order_reference = \(reference) ORDER BY id").map { r in
                Payment(id: try r.value("id"), orderReference: try r.value("order_reference"), transactionID: try r.value("transaction_id"),
                        decision: try r.value("decision"), amount: try r.value("amount"), currency: try r.value("currency"),
                        outcome: try r.value("outcome"), deliveryID: try r.value("delivery_id"), createdAt: try r.value("created_at"))
            }
        }
    }

    public func jobs(ofOrder reference: String) async throws -> [Job] {
        // A byte range of the unique key index (keys compare as bytes): "order:REF:" begins this order's keys only.
        let prefix = OrderFulfilment.keyPrefix(reference: reference)
        let end = String(prefix.dropLast()) + ";"
        return try await read { connection, _ in
            try await connection.query("""
                SELECT \(unescaped: Columns.job) FROM jobs WHERE dedupe_key >= \(prefix) AND dedupe_key < \(end) ORDER BY id
                """, logger: self.logger).all(Job.init(row:))
        }
    }

    public func applyPayment(_ callback: VerifiedCallback, delivery: NewDelivery) async throws -> AppliedPayment {
        let applied = try await write { tx -> AppliedPayment in
            guard let order = try await OrderRows.order(callback.referenceNumber, lock: true, in: tx) else {
                var unknown = delivery
                unknown.verdict = "rejected"
                unknown.httpStatus = 404
                unknown.reason = "unknown order \(callback.referenceNumber)"
                let id = try await tx.store.insertDelivery(unknown, receivedAt: tx.now, on: tx.connection)
                return AppliedPayment(decision: nil, deliveryID: id, jobs: [], unknownOrder: true)
            }
            let known = Set(try await tx.rows("SELECT transaction_id FROM payments WHERE order_reference = \(order.reference)")
                .map { try $0.value("transaction_id", as: String.self) })
            let decision = PaymentRules.decide(callback, order: order.snapshot, knownTransactions: known)
            var recorded = delivery
            recorded.verdict = decision.outcome.rawValue
            recorded.httpStatus = decision.httpStatus
            recorded.reason = decision.message
            let deliveryID = try await tx.store.insertDelivery(recorded, receivedAt: tx.now, on: tx.connection)
            if decision.outcome != .duplicateCallback {
                try await tx.run("""
                    INSERT INTO payments (order_reference, transaction_id, decision, amount, currency, outcome, delivery_id, created_at)
                    VALUES (\(order.reference), \(callback.transactionID), \(callback.decision.rawValue),
                            \(Money.format(callback.authAmount ?? callback.requestAmount)), \(callback.currency),
                            \(decision.outcome.rawValue), \(deliveryID), \(tx.now))
                    """)
            }
            try await tx.run("""
                UPDATE orders SET status = coalesce(\(decision.newStatus?.rawValue), status),
                                  attention = coalesce(\(decision.attention?.rawValue), attention),
                                  transaction_id = coalesce(\(decision.recordsTransaction ? callback.transactionID : nil), transaction_id),
                                  updated_at = \(tx.now)
                WHERE reference = \(order.reference)
                """)
            var jobs: [EnqueuedJob] = []
            if decision.fulfil {
                jobs = try await OrderRows.fulfil(order, source: "cybersource:\(callback.profileID)", deliveryID: deliveryID, in: tx)
                try await tx.run("UPDATE deliveries SET job_ids = \(jobs.map(\.id)) WHERE id = \(deliveryID)")
            } else if decision.newStatus == .inReview {
                try await CouponUses.keep(order: order.reference, in: tx)
            } else if let status = decision.newStatus, [.declined, .cancelled, .error].contains(status) {
                if OrderRows.paysForCode(order) { try await CodeHolds.release(order: order.reference, in: tx) }
                try await CouponUses.release(order: order.reference, in: tx)
            }
            return AppliedPayment(decision: decision, deliveryID: deliveryID, jobs: jobs, unknownOrder: false)
        }
        jobsMayRun(applied.jobs.contains(where: \.created))
        return applied
    }

    public func review(reference: String, accept: Bool, actor: String) async throws -> [EnqueuedJob] {
        let jobs = try await write { tx -> [EnqueuedJob] in
            guard let order = try await OrderRows.order(reference, lock: true, in: tx) else { throw OrderError.notFound(reference) }
            guard order.status == .inReview else { throw OrderError.notInReview(reference, order.status) }
            try await tx.audit(actor: actor, action: accept ? "review.accept" : "review.reject", jobID: nil, detail: "order \(reference)")
            try await tx.run("""
                UPDATE orders SET status = \(accept ? OrderStatus.paid.rawValue : OrderStatus.rejected.rawValue), attention = NULL,
                                  updated_at = \(tx.now)
                WHERE reference = \(reference)
                """)
            guard accept else {
                if OrderRows.paysForCode(order) { try await CodeHolds.release(order: reference, in: tx) }
                try await CouponUses.release(order: reference, in: tx)
                return []
            }
            return try await OrderRows.fulfil(order, source: "review:\(actor)", deliveryID: nil, in: tx)
        }
        jobsMayRun(jobs.contains(where: \.created))
        return jobs
    }

    public func storeOrdersNeedingAttention(limit: Int) async throws -> [FlaggedStoreOrder] {
        try await snapshot { tx in
            try await tx.rows("""
                SELECT store, order_id, attention, attention_detail, attention_at FROM woo_orders
                WHERE attention IS NOT NULL ORDER BY attention_at LIMIT \(limit)
                """).map(Self.flagged)
        }
    }

    public func dismissStoreOrder(store: String, orderID: Int, actor: String, note: String?) async throws -> FlaggedStoreOrder? {
        try await write { tx -> FlaggedStoreOrder? in
            // A delivery of the order flagging it anew meanwhile is either seen here or comes after.
            try await tx.lock(WooOrders.lockKey(store: store, orderID: orderID))
            guard let row = try await tx.row("""
                SELECT store, order_id, attention, attention_detail, attention_at FROM woo_orders
                WHERE store = \(store) AND order_id = \(orderID) AND attention IS NOT NULL
                """) else { return nil }
            let flag = try Self.flagged(row)
            try await tx.run("UPDATE woo_orders SET attention = NULL, attention_at = NULL WHERE store = \(store) AND order_id = \(orderID)")
            try await tx.audit(actor: actor, action: "order.dismiss", jobID: nil,
                               detail: "WooCommerce order \(flag.reference): \(flag.attention.rawValue) dismissed" + (note.map { ": \($0)" } ?? ""))
            return flag
        }
    }

    private static func flagged(_ r: PostgresRandomAccessRow) throws -> FlaggedStoreOrder {
        let text: String = try r.value("attention")
        guard let attention = OrderAttention(rawValue: text) else { throw StoreError.corrupt("woo_orders holds attention \"\(text)\"") }
        return FlaggedStoreOrder(store: try r.value("store"), orderID: try r.value("order_id"), attention: attention,
                                 detail: try r.value("attention_detail", as: String?.self) ?? "", since: try r.value("attention_at"))
    }
}

/// Orders as rows, and what paying one does, inside the caller's transaction.
enum OrderRows {
    static func insert(_ order: NewOrder, in tx: Tx) async throws {
        try await tx.run("""
            INSERT INTO orders (reference, email, currency, total, items, status, profile_id, created_at, updated_at, created_by, coupon)
            VALUES (\(order.reference), \(order.email), \(order.currency), \(Money.format(order.total)), \(try JSONText.encode(order.items)),
                    'pending', \(order.profileID), \(tx.now), \(tx.now), \(order.createdBy), \(order.coupon))
            """)
    }

    /// - Parameter lock: `FOR UPDATE`, for an operation deciding about the order (a payment, a review, a refund).
    static func order(_ reference: String, lock: Bool = false, in tx: Tx) async throws -> Order? {
        try await tx.row("SELECT * FROM orders WHERE reference = \(reference)\(unescaped: lock ? " FOR UPDATE" : "")").map(order)
    }

    static func order(_ r: PostgresRandomAccessRow) throws -> Order {
        let reference: String = try r.value("reference")
        let statusText: String = try r.value("status")
        guard let status = OrderStatus(rawValue: statusText) else {
            throw StoreError.corrupt("order \(reference) has unknown status \(statusText)")
        }
        return Order(reference: reference, email: try r.value("email"), currency: try r.value("currency"), total: try r.value("total"),
                     items: try JSONText.decode([OrderItem].self, from: try r.value("items")), status: status,
                     attention: try r.value("attention", as: String?.self).flatMap(OrderAttention.init(rawValue:)),
                     profileID: try r.value("profile_id"), transactionID: try r.value("transaction_id"),
                     createdAt: try r.value("created_at"), updatedAt: try r.value("updated_at"), createdBy: try r.value("created_by"),
                     coupon: try r.value("coupon"))
    }

    /// An order made to pay a priced code's seat.
    static func paysForCode(_ order: Order) -> Bool {
        order.items.contains { $0.fulfilment == OrderFulfilment.codeFulfilment }
    }

    /// What paying does, in the paying commit: the enroll jobs, a held code's redemption, the codes of
    /// multi-seat items, the sale, and the coupon's use kept.
    static func fulfil(_ order: Order, source: String, deliveryID: Int64?, in tx: Tx) async throws -> [EnqueuedJob] {
        let newJobs = try OrderFulfilment.jobs(for: order.snapshot, source: source)
        var jobs = try await tx.insert(newJobs, deliveryID: deliveryID)
        if paysForCode(order) { jobs += try await CodeHolds.complete(order: order.reference, deliveryID: deliveryID, in: tx) }
        let snapshot = order.snapshot
        for (index, item) in OrderFulfilment.seatItems(of: snapshot) {
            _ = try await Seats.apply(SeatLine(
                sourceReference: OrderFulfilment.seatSource(reference: snapshot.reference, index: index), courseID: item.courseID,
                mode: item.mode, seats: item.quantity, buyerEmail: snapshot.email, orderNumber: snapshot.reference, lineID: index,
                actor: source, voidReason: "order \(snapshot.reference) now has \(item.quantity) seats on item \(index)",
                mailKey: { OrderFulfilment.seatMailKey(reference: snapshot.reference, index: index, liveAfter: $0) }),
                deliveryID: deliveryID, in: tx)
        }
        try await SalesRows.record(SaleLine.lines(of: snapshot, paidAt: tx.now), in: tx)
        try await CouponUses.keep(order: order.reference, in: tx)
        return jobs
    }
}

/// Priced codes' seats held while learners pay: the hold and its order are made in the redemption's commit, and
/// completed or released in the payment's.
enum CodeHolds {
    /// Learners holding the code's seat now (holds not lapsed), with their orders.
    static func live(_ code: RegistrationCode, in tx: Tx) async throws -> [(email: String, order: String)] {
        try await tx.rows("""
            SELECT email, order_ref FROM code_holds WHERE code = \(code.value) AND state = 'held' AND expires_at > \(tx.now)
            """).map { (try $0.value("email"), try $0.value("order_ref")) }
    }

    /// Makes the order for the code's price and holds the seat for the learner until it is paid or lapses.
    static func hold(_ record: CodeRecord, email: String, checkout: CodeCheckout, in tx: Tx) async throws -> NewOrder {
        var order = NewOrder(reference: checkout.newReference(), email: email, currency: record.currency ?? "USD", total: record.price,
                             items: [OrderFulfilment.codeItem(courseID: record.courseID, mode: record.mode, price: record.price)],
                             profileID: checkout.profileID, createdBy: checkout.createdBy)
        // A reference drawn twice (12 hex digits) is drawn again.
        while try await tx.exists("SELECT 1 FROM orders WHERE reference = \(order.reference)") {
            order.reference = checkout.newReference()
        }
        try await OrderRows.insert(order, in: tx)
        try await tx.run("""
            INSERT INTO code_holds (order_ref, code, email, expires_at)
            VALUES (\(order.reference), \(record.code.value), \(email), \(tx.now.addingTimeInterval(checkout.hold)))
            """)
        return order
    }

    /// The order paid: the held redemption is recorded with its enroll job, unless another learner has the seat
    /// now; then the order needs a person (`code_unavailable`).
    static func complete(order reference: String, deliveryID: Int64?, in tx: Tx) async throws -> [EnqueuedJob] {
        guard let row = try await tx.row("""
            SELECT code, email, state, expires_at FROM code_holds WHERE order_ref = \(reference) AND state IN ('held', 'released')
            """),
              case .success(let code) = RegistrationCode.parse(try row.value("code", as: String.self)),
              let record = try await CodeRows.lockForRedemption(code, in: tx) else { return [] }
        let email: String = try row.value("email")
        var facts = record.facts
        facts.heldBy = try await live(code, in: tx).map(\.email)
        facts.contract = try await ContractRows.gate(for: record, email: email, in: tx)
        // A hold still live when its payment arrives had its place under the contract's cap reserved.
        if try row.value("state", as: String.self) == "held", try row.value("expires_at", as: Date.self) > tx.now {
            facts.contract?.isLearner = true
        }
        switch RedemptionRules.completePaid(facts, email: email) {
        case .redeem:
            let jobs = try await CodeRows.recordRedemption(record, email: email, orderReference: reference, deliveryID: deliveryID, in: tx)
            try await setState("redeemed", order: reference, in: tx)
            return jobs
        case .alreadyRedeemed:
            try await setState("redeemed", order: reference, in: tx)
            return []
        case .refused, .paymentRequired, .paymentPending:
            try await setState("lapsed", order: reference, in: tx)
            try await tx.run("""
                UPDATE orders SET attention = \(OrderAttention.codeUnavailable.rawValue), updated_at = \(tx.now) WHERE reference = \(reference)
                """)
            return []
        }
    }

    /// The order will not be paid (declined, cancelled, rejected): the seat goes back at once.
    static func release(order reference: String, in tx: Tx) async throws {
        try await tx.run("UPDATE code_holds SET state = 'released' WHERE order_ref = \(reference) AND state = 'held'")
    }

    private static func setState(_ state: String, order reference: String, in tx: Tx) async throws {
        try await tx.run("UPDATE code_holds SET state = \(state) WHERE order_ref = \(reference)")
    }
}

/// `sales` and `refunds`: what was paid and what was given back, written where orders are paid and refunded.
enum SalesRows {
    /// Records paid lines: one row per order. A hosted-checkout order's row is kept once (a second payment finds it).
    static func record(_ lines: [SaleLine], json: String? = nil, in tx: Tx) async throws {
        guard !lines.isEmpty else { return }
        let groups = SaleLine.byOrder(lines)
        for group in groups {
            let first = group[0]
            let text = groups.count == 1 ? json ?? SaleLine.linesJSON(group) : SaleLine.linesJSON(group)
            tx.send("""
                INSERT INTO sales (source, order_ref, email, currency, paid_at, lines)
                VALUES (\(first.source.rawValue), \(first.orderRef), \(first.email), \(first.currency), \(tx.now), \(text))
                ON CONFLICT DO NOTHING
                """)
        }
    }

    /// Records refunds once per reference. Returns whether each was new.
    @discardableResult
    static func record(_ refunds: [RefundRecord], at: Date, by actor: String, in tx: Tx) async throws -> [Bool] {
        var added: [Bool] = []
        for refund in refunds {
            added.append(try await tx.exists("""
                INSERT INTO refunds (origin, order_source, order_ref, line, amount, currency, reference, surplus, recorded_by, at)
                VALUES (\(refund.origin.rawValue), \(refund.orderSource.rawValue), \(refund.orderRef), \(refund.line),
                        \(Money.format(refund.amount)), \(refund.currency), \(refund.reference), \(refund.surplus), \(actor), \(at))
                ON CONFLICT DO NOTHING RETURNING 1
                """))
        }
        return added
    }

    static func checkoutLines(orderRef: String, in tx: Tx) async throws -> [SaleLine] {
        try await tx.rows("SELECT * FROM sales WHERE source = 'cybersource' AND order_ref = \(orderRef)")
            .flatMap(lines).sorted { $0.line < $1.line }
    }

    /// Adds to each store order's course lines what its customer paid beyond them (other items, tax, shipping),
    /// as a line of its own (`.other`, line 0): a refund by amount is spread over it too.
    static func withOtherItems(_ lines: [SaleLine], in tx: Tx) async throws -> [SaleLine] {
        var byOrder: [String: [SaleLine]] = [:]
        for line in lines where line.source == .woocommerce { byOrder[line.orderRef, default: []].append(line) }
        guard !byOrder.isEmpty else { return lines }
        var result = lines
        for (orderRef, courseLines) in byOrder.sorted(by: { $0.key < $1.key }) {
            guard let colon = orderRef.lastIndex(of: ":"), let id = Int(orderRef[orderRef.index(after: colon)...]),
                  let text = try await tx.value("""
                      SELECT total FROM woo_orders WHERE store = \(String(orderRef[..<colon])) AND order_id = \(id)
                      """, as: String?.self) ?? nil,
                  let paid = Money.parse(text)
            else { continue }
            let courses = courseLines.reduce(Decimal(0)) { $0 + $1.net }
            guard paid > courses, let first = courseLines.first else { continue }
            result.append(SaleLine(source: .woocommerce, orderRef: orderRef, line: 0, courseID: "", email: first.email, quantity: 0,
                                   fulfilment: .other, gross: paid - courses, currency: first.currency, paidAt: first.paidAt))
        }
        return result
    }

    static func refunds(source: SaleLine.Source, orderRef: String, in tx: Tx) async throws -> [RefundRecord] {
        try await tx.rows("SELECT * FROM refunds WHERE order_source = \(source.rawValue) AND order_ref = \(orderRef) ORDER BY id").map(refund)
    }

    static func lines(_ r: PostgresRandomAccessRow) throws -> [SaleLine] {
        let orderRef: String = try r.value("order_ref")
        guard let source = SaleLine.Source(rawValue: try r.value("source")),
              let lines = SaleLine.lines(json: try r.value("lines"), source: source, orderRef: orderRef, email: try r.value("email"),
                                         currency: try r.value("currency"), paidAt: try r.value("paid_at")) else {
            throw StoreError.corrupt("sales holds unreadable lines of \(orderRef)")
        }
        return lines
    }

    /// The money the gateway took for a hosted-checkout order: the payment that paid it and any duplicate payment.
    static func taken(orderRef: String, in tx: Tx) async throws -> Decimal {
        try await tx.rows("""
            SELECT min(p.amount) AS amount FROM payments p JOIN orders o ON o.reference = p.order_reference
            WHERE p.order_reference = \(orderRef) AND p.amount IS NOT NULL
              AND (p.transaction_id = o.transaction_id OR p.outcome = 'duplicate_payment')
            GROUP BY p.transaction_id
            """).compactMap { Money.parse(try $0.value("amount", as: String.self)) }.reduce(0, +)
    }

    static func refund(_ r: PostgresRandomAccessRow) throws -> RefundRecord {
        guard let origin = RefundRecord.Origin(rawValue: try r.value("origin")),
              let source = SaleLine.Source(rawValue: try r.value("order_source")),
              let amount = Money.parse(try r.value("amount")) else {
            throw StoreError.corrupt("refunds holds an unreadable refund \(try r.value("id", as: Int64.self))")
        }
        return RefundRecord(origin: origin, orderSource: source, orderRef: try r.value("order_ref"), line: try r.value("line"),
                            amount: amount, currency: try r.value("currency"), reference: try r.value("reference"), at: try r.value("at"),
                            surplus: try r.value("surplus"))
    }
}
