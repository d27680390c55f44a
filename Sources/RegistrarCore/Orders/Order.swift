import Foundation

/// One line of an order sold through the hosted checkout.
public struct OrderItem: Codable, Sendable, Equatable {
    public var courseID: String
    public var mode: String?
    public var quantity: Int
    /// Decimal text as the storefront sent it, normalised ("49.00").
    public var unitPrice: String
    /// How the seats are delivered once paid: `enroll` (the buyer), `codes` (a multi-seat purchase: one
    /// registration code per seat, mailed to the buyer) or `code` (the payment for a priced code's seat held
    /// for the buyer: paying completes that redemption).
    public var fulfilment: String?
    /// What a coupon took off the whole line ("9.80"), nil when nothing: the line's price is
    /// `unitPrice × quantity − discount`, and `unitPrice` stays the price before it.
    public var discount: String?

    public init(courseID: String, mode: String? = nil, quantity: Int, unitPrice: String, fulfilment: String? = nil,
                discount: String? = nil) {
        self.courseID = courseID
        self.mode = mode
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.fulfilment = fulfilment
        self.discount = discount
    }

    /// Before any discount.
    public var gross: Decimal { (Money.parse(unitPrice) ?? 0) * Decimal(quantity) }
    public var discountAmount: Decimal { discount.flatMap(Money.parse) ?? 0 }
    /// What the buyer pays for the line.
    public var net: Decimal { gross - discountAmount }

    enum CodingKeys: String, CodingKey {
        case courseID = "course_id"
        case mode, quantity
        case unitPrice = "unit_price"
        case fulfilment, discount
    }
}

public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case paid
    case inReview = "in_review"
    case declined
    case cancelled
    case error
    /// A reviewed payment an operator refused.
    case rejected
}

/// Why an order needs a person: listed by `registrar orders list --attention`.
public enum OrderAttention: String, Sendable, Codable, CaseIterable {
    /// Paid twice (a second transaction id): refund one.
    case duplicatePayment = "duplicate_payment"
    /// CyberSource asked for a manual review: accept or reject with `registrar orders review`.
    case review
    /// The authorised amount or currency did not match the order: not fulfilled.
    case amountMismatch = "amount_mismatch"
    /// A priced code's seat was paid for after its hold lapsed and another learner took it: refund the payment.
    case codeUnavailable = "code_unavailable"
    /// A refund took back more seats than the line had unredeemed codes: the redeemed ones stay until an operator
    /// revokes them (`codes revoke`) or dismisses the flag.
    case refundExceedsUnredeemedSeats = "refund_exceeds_unredeemed_seats"
}

/// An order's state as the payment rules need it.
public struct OrderSnapshot: Sendable, Equatable {
    public var reference: String
    public var email: String
    public var currency: String
    public var total: Decimal
    public var items: [OrderItem]
    public var status: OrderStatus
    public var transactionID: String?

    public init(reference: String, email: String, currency: String, total: Decimal, items: [OrderItem], status: OrderStatus,
                transactionID: String? = nil) {
        self.reference = reference
        self.email = email
        self.currency = currency
        self.total = total
        self.items = items
        self.status = status
        self.transactionID = transactionID
    }
}

/// What a paid order turns into: one `enroll` job per single-seat item for the buyer; a multi-seat item becomes
/// one registration code per seat, mailed to the buyer.
public enum OrderFulfilment {
    public static func jobs(for order: OrderSnapshot, source: String) throws -> [NewJob] {
        try order.items.enumerated().compactMap { index, item in
            // A priced code's payment completes its held redemption instead (the store's, in the same commit).
            guard item.quantity == 1, item.fulfilment != codeFulfilment else { return nil }
            return try NewJob(kind: .enroll, dedupeKey: keyPrefix(reference: order.reference) + "\(index):enroll",
                              serialKey: SerialKey.enrollment(email: order.email, courseID: item.courseID),
                              payload: EnrollPayload(email: order.email, courseID: item.courseID, mode: item.mode,
                                                     orderReference: order.reference),
                              source: source)
        }
    }

    /// Every dedupe key of an order's jobs starts with this, and no other order's does: references hold only
    /// letters, digits, "-" and "_", never ":".
    public static func keyPrefix(reference: String) -> String { "order:\(reference):" }

    /// The items sold as codes (several seats), by index: one code per seat, made when the order is paid.
    public static func seatItems(of order: OrderSnapshot) -> [(index: Int, item: OrderItem)] {
        order.items.enumerated().filter { $0.element.quantity > 1 && $0.element.fulfilment != codeFulfilment }.map { ($0.offset, $0.element) }
    }

    /// The fulfilment of an order made to pay for a priced code's seat.
    public static let codeFulfilment = "code"

    /// The one item of the order a learner pays a priced code's seat with.
    public static func codeItem(courseID: String, mode: String?, price: Decimal) -> OrderItem {
        OrderItem(courseID: courseID, mode: mode, quantity: 1, unitPrice: Money.format(price), fulfilment: codeFulfilment)
    }

    /// The codes' source reference of an order's item: `<reference>:<index>`.
    public static func seatSource(reference: String, index: Int) -> String { "\(reference):\(index)" }

    /// The mail of a batch of an item's codes, under the order's key prefix.
    public static func seatMailKey(reference: String, index: Int, liveAfter: Int) -> String {
        keyPrefix(reference: reference) + "\(index):codes:\(liveAfter)"
    }

    /// Items with their fulfilment filled in, as stored when the order is registered.
    public static func plan(_ items: [OrderItem]) -> [OrderItem] {
        items.map { item in
            var planned = item
            planned.fulfilment = item.quantity == 1 ? "enroll" : "codes"
            return planned
        }
    }
}
