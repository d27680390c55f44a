import Foundation
import RegistrarCore

/// An order sold through the hosted checkout, as the store keeps it.
public struct Order: Sendable, Equatable {
    public var reference: String
    public var email: String
    public var currency: String
    /// Decimal text, "49.00".
    public var total: String
    public var items: [OrderItem]
    public var status: OrderStatus
    public var attention: OrderAttention?
    public var profileID: String
    /// The payment that paid it.
    public var transactionID: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// The name of the API token that registered it; nil for orders registered before tokens were recorded.
    public var createdBy: String?
    /// The coupon the order was priced with; each item keeps what it took off (`OrderItem.discount`).
    public var coupon: String?

    public init(reference: String, email: String, currency: String, total: String, items: [OrderItem], status: OrderStatus,
                attention: OrderAttention?, profileID: String, transactionID: String?, createdAt: Date, updatedAt: Date,
                createdBy: String? = nil, coupon: String? = nil) {
        self.createdBy = createdBy
        self.coupon = coupon
        self.reference = reference
        self.email = email
        self.currency = currency
        self.total = total
        self.items = items
        self.status = status
        self.attention = attention
        self.profileID = profileID
        self.transactionID = transactionID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Its items at their prices before any discount.
    public var listTotal: Decimal { items.reduce(Decimal(0)) { $0 + $1.gross } }
    /// What its coupon took off, every line together.
    public var discountTotal: Decimal { items.reduce(Decimal(0)) { $0 + $1.discountAmount } }

    /// The order as the payment rules of the core see it.
    public var snapshot: OrderSnapshot {
        OrderSnapshot(reference: reference, email: email, currency: currency, total: Money.parse(total) ?? 0, items: items,
                      status: status, transactionID: transactionID)
    }
}

/// A payment callback that passed verification, with what it meant for its order.
public struct Payment: Sendable, Equatable {
    public var id: Int64
    public var orderReference: String
    public var transactionID: String
    public var decision: String
    public var amount: String?
    public var currency: String?
    public var outcome: String
    public var deliveryID: Int64?
    public var createdAt: Date

    public init(id: Int64, orderReference: String, transactionID: String, decision: String, amount: String?,
                currency: String?, outcome: String, deliveryID: Int64?, createdAt: Date) {
        self.id = id
        self.orderReference = orderReference
        self.transactionID = transactionID
        self.decision = decision
        self.amount = amount
        self.currency = currency
        self.outcome = outcome
        self.deliveryID = deliveryID
        self.createdAt = createdAt
    }
}

/// An order as a storefront registers it.
public struct NewOrder: Sendable {
    public var reference: String
    public var email: String
    public var currency: String
    public var total: Decimal
    public var items: [OrderItem]
    public var profileID: String
    /// The name of the API token registering it: a storefront token sees only its own orders.
    public var createdBy: String?
    /// A coupon code the buyer typed: the store checks it, reserves a use and takes its discount off the items
    /// and the total in the order's commit.
    public var coupon: String?
    /// How long a coupon's use is held for an unpaid order (`orders.hold_minutes`).
    public var couponHold: TimeInterval

    public init(reference: String, email: String, currency: String, total: Decimal, items: [OrderItem], profileID: String,
                createdBy: String? = nil, coupon: String? = nil, couponHold: TimeInterval = 30 * 60) {
        self.createdBy = createdBy
        self.coupon = coupon
        self.couponHold = couponHold
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
    /// The coupon named cannot be used (422 with the refusal's code).
    case coupon(CouponRefusal)

    public var description: String {
        switch self {
        case .coupon(let refusal): refusal.message
        case .referenceTaken(let reference): "an order with reference \(reference) exists already"
        case .notFound(let reference): "no order \(reference)"
        case .notInReview(let reference, let status): "order \(reference) is \(status.rawValue), not in review"
        }
    }
}

/// What a verified callback did, committed together with its delivery.
public struct AppliedPayment: Sendable {
    /// nil when the callback named an order the store does not have.
    public var decision: PaymentDecision?
    public var deliveryID: Int64
    public var jobs: [EnqueuedJob]
    /// True when the callback named an order this store does not have (answered 404).
    public var unknownOrder: Bool

    public init(decision: PaymentDecision?, deliveryID: Int64, jobs: [EnqueuedJob], unknownOrder: Bool) {
        self.decision = decision
        self.deliveryID = deliveryID
        self.jobs = jobs
        self.unknownOrder = unknownOrder
    }
}
