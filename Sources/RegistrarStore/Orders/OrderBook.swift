import Foundation
import GRDB
import RegistrarCore

/// A row of `orders`.
public struct Order: Sendable, Equatable, FetchableRecord {
    public var reference: String
    public var email: String
    public var currency: String
    public var total: String
    public var items: [OrderItem]
    public var status: OrderStatus
    public var attention: OrderAttention?
    public var profileID: String
    public var transactionID: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(row: Row) throws {
        reference = row["reference"]
        email = row["email"]
        currency = row["currency"]
        total = row["total"]
        items = try JSONText.decode([OrderItem].self, from: row["items"])
        let statusText: String = row["status"]
        guard let status = OrderStatus(rawValue: statusText) else {
            throw StoreError.corrupt("order \(reference as String) has unknown status \(statusText)")
        }
        self.status = status
        attention = (row["attention"] as String?).flatMap(OrderAttention.init(rawValue:))
        profileID = row["profile_id"]
        transactionID = row["transaction_id"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
    }

    public var snapshot: OrderSnapshot {
        OrderSnapshot(reference: reference, email: email, currency: currency, total: Money.parse(total) ?? 0, items: items,
                      status: status, transactionID: transactionID)
    }
}

/// A row of `payments`.
public struct Payment: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var orderReference: String
    public var transactionID: String
    public var decision: String
    public var amount: String?
    public var currency: String?
    public var outcome: String
    public var deliveryID: Int64?
    public var createdAt: Date

    public init(row: Row) {
        id = row["id"]
        orderReference = row["order_reference"]
        transactionID = row["transaction_id"]
        decision = row["decision"]
        amount = row["amount"]
        currency = row["currency"]
        outcome = row["outcome"]
        deliveryID = row["delivery_id"]
        createdAt = row["created_at"]
    }
}

public struct NewOrder: Sendable {
    public var reference: String
    public var email: String
    public var currency: String
    public var total: Decimal
    public var items: [OrderItem]
    public var profileID: String

    public init(reference: String, email: String, currency: String, total: Decimal, items: [OrderItem], profileID: String) {
        self.reference = reference
        self.email = email
        self.currency = currency
        self.total = total
        self.items = items
        self.profileID = profileID
    }
}

public enum OrderError: Error, Sendable, CustomStringConvertible, Equatable {
    case referenceTaken(String)
    case notFound(String)
    case notInReview(String, OrderStatus)

    public var description: String {
        switch self {
        case .referenceTaken(let reference): "an order with reference \(reference) exists already"
        case .notFound(let reference): "no order \(reference)"
        case .notInReview(let reference, let status): "order \(reference) is \(status.rawValue), not in review"
        }
    }
}

/// The result of applying a verified callback.
public struct AppliedPayment: Sendable {
    public var decision: PaymentDecision?
    public var deliveryID: Int64
    public var jobs: [EnqueuedJob]
    /// True when the callback named an order this store does not have (answered 404).
    public var unknownOrder: Bool
}

extension RegistrarStore {
    public func createOrder(_ order: NewOrder) async throws {
        let now = clock.now()
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM orders WHERE reference = ?", arguments: [order.reference]) == true {
                throw OrderError.referenceTaken(order.reference)
            }
            try db.execute(sql: """
                INSERT INTO orders (reference, email, currency, total, items, status, profile_id, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)
                """, arguments: [order.reference, order.email, order.currency, Money.format(order.total),
                                 try JSONText.encode(order.items), order.profileID, now, now])
        }
    }

    public func order(reference: String) async throws -> Order? {
        try await read { db in try Order.fetchOne(db, sql: "SELECT * FROM orders WHERE reference = ?", arguments: [reference]) }
    }

    public func orders(attentionOnly: Bool, limit: Int = 100) async throws -> [Order] {
        try await read { db in
            try Order.fetchAll(db, sql: "SELECT * FROM orders \(attentionOnly ? "WHERE attention IS NOT NULL" : "") ORDER BY created_at DESC LIMIT ?",
                               arguments: [limit])
        }
    }

    public func payments(ofOrder reference: String) async throws -> [Payment] {
        try await read { db in
            try Payment.fetchAll(db, sql: "SELECT * FROM payments WHERE order_reference = ? ORDER BY id", arguments: [reference])
        }
    }

    /// The jobs an order's payment created, for `GET /api/v1/orders/{ref}` and `orders show`.
    public func jobs(ofOrder reference: String) async throws -> [Job] {
        try await read { db in
            try Job.fetchAll(db, sql: "SELECT * FROM jobs WHERE dedupe_key LIKE ? ORDER BY id", arguments: ["order:\(reference):%"])
        }
    }

    /// Records a verified callback and what it does to its order, in one transaction with its delivery: the
    /// payment row, the order's new status and attention flag, and the enroll jobs of a paid order.
    public func applyPayment(_ callback: VerifiedCallback, delivery: NewDelivery) async throws -> AppliedPayment {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let applied = try await write { db -> AppliedPayment in
            guard let order = try Order.fetchOne(db, sql: "SELECT * FROM orders WHERE reference = ?",
                                                 arguments: [callback.referenceNumber]) else {
                var unknown = delivery
                unknown.verdict = "rejected"
                unknown.httpStatus = 404
                unknown.reason = "unknown order \(callback.referenceNumber)"
                let id = try DeliveryLedger.record(unknown, at: now, in: db)
                return AppliedPayment(decision: nil, deliveryID: id, jobs: [], unknownOrder: true)
            }
            let known = Set(try String.fetchAll(db, sql: "SELECT transaction_id FROM payments WHERE order_reference = ?",
                                                arguments: [order.reference]))
            let decision = PaymentRules.decide(callback, order: order.snapshot, knownTransactions: known)
            var recorded = delivery
            recorded.verdict = decision.outcome.rawValue
            recorded.httpStatus = decision.httpStatus
            recorded.reason = decision.message
            let deliveryID = try DeliveryLedger.record(recorded, at: now, in: db)
            if decision.outcome != .duplicateCallback {
                try db.execute(sql: """
                    INSERT INTO payments (order_reference, transaction_id, decision, amount, currency, outcome, delivery_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [order.reference, callback.transactionID, callback.decision.rawValue,
                                     Money.format(callback.authAmount ?? callback.requestAmount), callback.currency,
                                     decision.outcome.rawValue, deliveryID, now])
            }
            try Self.update(order, status: decision.newStatus, attention: decision.attention,
                            transactionID: decision.recordsTransaction ? callback.transactionID : nil, now: now, in: db)
            var jobs: [EnqueuedJob] = []
            if decision.fulfil {
                let newJobs = try OrderFulfilment.jobs(for: order.snapshot, source: "cybersource:\(callback.profileID)")
                jobs = try JobTable.insert(newJobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
                try DeliveryLedger.setJobs(jobs.map(\.id), ofDelivery: deliveryID, in: db)
            }
            return AppliedPayment(decision: decision, deliveryID: deliveryID, jobs: jobs, unknownOrder: false)
        }
        if applied.jobs.contains(where: \.created) { jobsAdded.ring() }
        return applied
    }

    /// An operator's verdict on an order held for review: accepted orders are paid and fulfilled at once.
    public func review(reference: String, accept: Bool, actor: String) async throws -> [EnqueuedJob] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let jobs = try await write { db -> [EnqueuedJob] in
            guard let order = try Order.fetchOne(db, sql: "SELECT * FROM orders WHERE reference = ?", arguments: [reference]) else {
                throw OrderError.notFound(reference)
            }
            guard order.status == .inReview else { throw OrderError.notInReview(reference, order.status) }
            try Self.audit(actor: actor, action: accept ? "review.accept" : "review.reject", jobID: nil,
                           detail: "order \(reference)", at: now, in: db)
            if !accept {
                try db.execute(sql: "UPDATE orders SET status = 'rejected', attention = NULL, updated_at = ? WHERE reference = ?",
                               arguments: [now, reference])
                return []
            }
            try db.execute(sql: "UPDATE orders SET status = 'paid', attention = NULL, updated_at = ? WHERE reference = ?",
                           arguments: [now, reference])
            let newJobs = try OrderFulfilment.jobs(for: order.snapshot, source: "review:\(actor)")
            return try JobTable.insert(newJobs, deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
        }
        if jobs.contains(where: \.created) { jobsAdded.ring() }
        return jobs
    }

    private static func update(_ order: Order, status: OrderStatus?, attention: OrderAttention?, transactionID: String?,
                               now: Date, in db: Database) throws {
        try db.execute(sql: """
            UPDATE orders SET status = COALESCE(?, status), attention = COALESCE(?, attention),
                              transaction_id = COALESCE(?, transaction_id), updated_at = ?
            WHERE reference = ?
            """, arguments: [status?.rawValue, attention?.rawValue, transactionID, now, order.reference])
    }
}
