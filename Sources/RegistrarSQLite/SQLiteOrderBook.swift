import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: OrderBook {
    @discardableResult
    public func createOrder(_ order: NewOrder) async throws -> Order {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let (stored, jobs) = try await write { db -> (Order, [EnqueuedJob]) in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM orders WHERE reference = ?", arguments: [order.reference]) == true {
                throw OrderError.referenceTaken(order.reference)
            }
            var priced = order
            if let typed = order.coupon {
                // Counted and reserved in this one commit: the writer runs one transaction at a time, so racing
                // orders see each other's uses.
                let reserved = try CouponUseTable.reserve(typed, for: order, now: now, in: db)
                (priced.items, priced.total, priced.coupon) = (reserved.items, reserved.total, reserved.code)
            }
            try OrderTable.insert(priced, now: now, in: db)
            var jobs: [EnqueuedJob] = []
            if priced.total == 0 {
                // Nothing to pay (a 100 % coupon, a free seat): paid now, fulfilled like any paid order.
                try db.execute(sql: "UPDATE orders SET status = 'paid' WHERE reference = ?", arguments: [priced.reference])
                guard let paid = try Self.order(priced.reference, in: db) else { throw StoreError.corrupt("order \(priced.reference) vanished") }
                jobs = try Self.fulfil(paid, source: "checkout:free", deliveryID: nil, maxAttempts: maxAttempts, now: now, in: db)
            }
            guard let stored = try Self.order(priced.reference, in: db) else { throw StoreError.corrupt("order \(priced.reference) vanished") }
            return (stored, jobs)
        }
        jobsMayRun(jobs.contains(where: \.created))
        return stored
    }

    public func order(reference: String) async throws -> Order? {
        try await read { db in try Self.order(reference, in: db) }
    }

    public func orders(attentionOnly: Bool, limit: Int) async throws -> [Order] {
        try await read { db in
            try OrderRecord.fetchAll(db, sql: """
                SELECT * FROM orders \(attentionOnly ? "WHERE attention IS NOT NULL" : "") ORDER BY created_at DESC LIMIT ?
                """, arguments: [limit]).map(\.order)
        }
    }

    public func payments(ofOrder reference: String) async throws -> [Payment] {
        try await read { db in
            try PaymentRecord.fetchAll(db, sql: "SELECT * FROM payments WHERE order_reference = ? ORDER BY id",
                                       arguments: [reference]).map(\.payment)
        }
    }

    public func jobs(ofOrder reference: String) async throws -> [Job] {
        // A byte range on the unique key index, not LIKE: LIKE's `_` and `%` are wildcards and it ignores case,
        // so "A_1" would have matched the jobs of "AB1" and "a_1". References hold no ":" (the API refuses one),
        // so "order:REF:" begins this order's keys and no other's.
        let prefix = OrderFulfilment.keyPrefix(reference: reference)
        let end = String(prefix.dropLast()) + ";"
        return try await read { db in
            try JobRecord.fetchAll(db, sql: "SELECT * FROM jobs WHERE dedupe_key >= ? AND dedupe_key < ? ORDER BY id",
                                   arguments: [prefix, end]).map(\.job)
        }
    }

    public func applyPayment(_ callback: VerifiedCallback, delivery: NewDelivery) async throws -> AppliedPayment {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let row = DeliveryRow(delivery, receivedAt: now)
        let applied = try await write { db -> AppliedPayment in
            guard let order = try Self.order(callback.referenceNumber, in: db) else {
                var unknown = row
                unknown.verdict = "rejected"
                unknown.httpStatus = 404
                unknown.reason = "unknown order \(callback.referenceNumber)"
                let id = try DeliveryTable.record(unknown, in: db)
                return AppliedPayment(decision: nil, deliveryID: id, jobs: [], unknownOrder: true)
            }
            let known = Set(try String.fetchAll(db, sql: "SELECT transaction_id FROM payments WHERE order_reference = ?",
                                                arguments: [order.reference]))
            let decision = PaymentRules.decide(callback, order: order.snapshot, knownTransactions: known)
            var recorded = row
            recorded.verdict = decision.outcome.rawValue
            recorded.httpStatus = decision.httpStatus
            recorded.reason = decision.message
            let deliveryID = try DeliveryTable.record(recorded, in: db)
            if decision.outcome != .duplicateCallback {
                try db.execute(sql: """
                    INSERT INTO payments (order_reference, transaction_id, decision, amount, currency, outcome, delivery_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [order.reference, callback.transactionID, callback.decision.rawValue,
                                     Money.format(callback.authAmount ?? callback.requestAmount), callback.currency,
                                     decision.outcome.rawValue, deliveryID, now])
            }
            try db.execute(sql: """
                UPDATE orders SET status = COALESCE(?, status), attention = COALESCE(?, attention),
                                  transaction_id = COALESCE(?, transaction_id), updated_at = ?
                WHERE reference = ?
                """, arguments: [decision.newStatus?.rawValue, decision.attention?.rawValue,
                                 decision.recordsTransaction ? callback.transactionID : nil, now, order.reference])
            var jobs: [EnqueuedJob] = []
            if decision.fulfil {
                jobs = try Self.fulfil(order, source: "cybersource:\(callback.profileID)", deliveryID: deliveryID,
                                       maxAttempts: maxAttempts, now: now, in: db)
                try DeliveryTable.setJobs(jobs.map(\.id), ofDelivery: deliveryID, in: db)
            } else if decision.newStatus == .inReview {
                try CouponUseTable.keep(order: order.reference, in: db)
            } else if let status = decision.newStatus, [.declined, .cancelled, .error].contains(status) {
                if Self.paysForCode(order) { try CodeHoldTable.release(order: order.reference, in: db) }
                try CouponUseTable.release(order: order.reference, in: db)
            }
            return AppliedPayment(decision: decision, deliveryID: deliveryID, jobs: jobs, unknownOrder: false)
        }
        jobsMayRun(applied.jobs.contains(where: \.created))
        return applied
    }

    public func review(reference: String, accept: Bool, actor: String) async throws -> [EnqueuedJob] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let jobs = try await write { db -> [EnqueuedJob] in
            guard let order = try Self.order(reference, in: db) else { throw OrderError.notFound(reference) }
            guard order.status == .inReview else { throw OrderError.notInReview(reference, order.status) }
            try Self.audit(actor: actor, action: accept ? "review.accept" : "review.reject", jobID: nil,
                           detail: "order \(reference)", at: now, in: db)
            try db.execute(sql: "UPDATE orders SET status = ?, attention = NULL, updated_at = ? WHERE reference = ?",
                           arguments: [accept ? OrderStatus.paid.rawValue : OrderStatus.rejected.rawValue, now, reference])
            guard accept else {
                if Self.paysForCode(order) { try CodeHoldTable.release(order: reference, in: db) }
                try CouponUseTable.release(order: reference, in: db)
                return []
            }
            return try Self.fulfil(order, source: "review:\(actor)", deliveryID: nil, maxAttempts: maxAttempts, now: now, in: db)
        }
        jobsMayRun(jobs.contains(where: \.created))
        return jobs
    }

    public func storeOrdersNeedingAttention(limit: Int) async throws -> [FlaggedStoreOrder] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT store, order_id, attention, attention_detail, attention_at FROM woo_orders INDEXED BY woo_orders_attention
                WHERE attention IS NOT NULL ORDER BY attention_at LIMIT ?
                """, arguments: [limit]).map(Self.flagged)
        }
    }

    public func dismissStoreOrder(store: String, orderID: Int, actor: String, note: String?) async throws -> FlaggedStoreOrder? {
        let now = clock.now()
        return try await write { db -> FlaggedStoreOrder? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT store, order_id, attention, attention_detail, attention_at FROM woo_orders
                WHERE store = ? AND order_id = ? AND attention IS NOT NULL
                """, arguments: [store, orderID]) else { return nil }
            let flag = try Self.flagged(row)
            try db.execute(sql: "UPDATE woo_orders SET attention = NULL, attention_at = NULL WHERE store = ? AND order_id = ?",
                           arguments: [store, orderID])
            try Self.audit(actor: actor, action: "order.dismiss", jobID: nil,
                           detail: "WooCommerce order \(flag.reference): \(flag.attention.rawValue) dismissed" + (note.map { ": \($0)" } ?? ""),
                           at: now, in: db)
            return flag
        }
    }

    private static func flagged(_ row: Row) throws -> FlaggedStoreOrder {
        let text: String = row["attention"]
        guard let attention = OrderAttention(rawValue: text) else { throw StoreError.corrupt("woo_orders holds attention \"\(text)\"") }
        return FlaggedStoreOrder(store: row["store"], orderID: row["order_id"], attention: attention,
                                 detail: row["attention_detail"] ?? "", since: row["attention_at"])
    }

    /// An order made to pay a priced code's seat.
    private static func paysForCode(_ order: Order) -> Bool {
        order.items.contains { $0.fulfilment == OrderFulfilment.codeFulfilment }
    }

    /// What paying does, in the paying commit: the enroll jobs, a held code's redemption, the codes of
    /// multi-seat items, the sale, and the coupon's use kept.
    private static func fulfil(_ order: Order, source: String, deliveryID: Int64?, maxAttempts: Int, now: Date,
                               in db: Database) throws -> [EnqueuedJob] {
        let newJobs = try OrderFulfilment.jobs(for: order.snapshot, source: source)
        var jobs = try JobTable.insert(newJobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
        jobs += try completeHeldCode(order, deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
        try makeSeats(order.snapshot, actor: source, deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
        try SalesTable.record(SaleLine.lines(of: order.snapshot, paidAt: now), paidAt: now, in: db)
        try CouponUseTable.keep(order: order.reference, in: db)
        return jobs
    }

    /// A paid order that held a priced code's seat completes that redemption.
    private static func completeHeldCode(_ order: Order, deliveryID: Int64?, maxAttempts: Int, now: Date,
                                         in db: Database) throws -> [EnqueuedJob] {
        guard paysForCode(order) else { return [] }
        return try CodeHoldTable.complete(order: order.reference, deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
    }

    /// A paid order's multi-seat items get their codes (once: a second payment or review finds them made).
    private static func makeSeats(_ order: OrderSnapshot, actor: String, deliveryID: Int64?, maxAttempts: Int, now: Date,
                                  in db: Database) throws {
        for (index, item) in OrderFulfilment.seatItems(of: order) {
            _ = try SeatLedger.apply(SeatLine(
                sourceReference: OrderFulfilment.seatSource(reference: order.reference, index: index), courseID: item.courseID,
                mode: item.mode, seats: item.quantity, buyerEmail: order.email, orderNumber: order.reference, lineID: index,
                actor: actor, voidReason: "order \(order.reference) now has \(item.quantity) seats on item \(index)", mailKey: { OrderFulfilment.seatMailKey(reference: order.reference, index: index, liveAfter: $0) }),
                deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
        }
    }

    static func order(_ reference: String, in db: Database) throws -> Order? {
        try OrderRecord.fetchOne(db, sql: "SELECT * FROM orders WHERE reference = ?", arguments: [reference])?.order
    }
}
