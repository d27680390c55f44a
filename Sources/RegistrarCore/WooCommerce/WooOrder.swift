import Foundation

/// The parts of a WooCommerce REST v3 order that decide enrollments; everything else in the payload is ignored.
public struct WooOrder: Sendable, Equatable {
    public var id: Int
    /// What the store shows the customer; differs from `id` under sequential-number plugins.
    public var number: String
    public var status: String
    /// Trimmed and lower-cased; nil when absent or empty.
    public var billingEmail: String?
    /// As sent (`2026-11-21T10:15:02`): WooCommerce always writes this fixed-width form, so text order is time order.
    public var dateModifiedGMT: String?
    public var lineItems: [WooLineItem]
    /// The order lists refunds newest first, with totals only: which lines a refund covers needs the REST API.
    public var refunds: [WooRefundReference]
    /// ISO 4217, upper-cased; nil when absent.
    public var currency: String?
    /// What the customer paid, tax and shipping included; nil when absent or unreadable.
    public var total: Decimal? { didSet { totalText = total.map(Money.format) } }
    /// `total` as the store keeps it ("108.00").
    public private(set) var totalText: String?

    public init(id: Int, number: String? = nil, status: String, billingEmail: String? = nil,
                dateModifiedGMT: String? = nil, lineItems: [WooLineItem] = [], refunds: [WooRefundReference] = [],
                currency: String? = nil, total: Decimal? = nil) {
        self.total = total
        self.totalText = total.map(Money.format)
        self.id = id
        self.number = number ?? String(id)
        self.status = status
        self.billingEmail = billingEmail
        self.dateModifiedGMT = dateModifiedGMT
        self.lineItems = lineItems
        self.refunds = refunds
        self.currency = currency
    }
}

public struct WooLineItem: Sendable, Equatable {
    public var id: Int
    public var name: String?
    public var productID: Int
    /// 0 when the product is not a variation.
    public var variationID: Int
    public var quantity: Int
    /// nil when absent or "".
    public var sku: String?
    /// meta_data key → value: string values, numbers rendered as text; the first of duplicate keys wins.
    public var meta: [String: String]
    /// Before and after the line's discounts, as the store wrote them ("49.00"); nil when absent or unreadable.
    public var subtotal: Decimal?
    public var total: Decimal?

    public init(id: Int, name: String? = nil, productID: Int, variationID: Int = 0, quantity: Int = 1,
                sku: String? = nil, meta: [String: String] = [:], subtotal: Decimal? = nil, total: Decimal? = nil) {
        self.id = id
        self.name = name
        self.productID = productID
        self.variationID = variationID
        self.quantity = quantity
        self.sku = sku
        self.meta = meta
        self.subtotal = subtotal
        self.total = total
    }
}

/// An entry of the order's `refunds[]`: `{"id": 731, "reason": "", "total": "-49.00"}`.
public struct WooRefundReference: Sendable, Equatable {
    public var id: Int
    public var total: String?

    public init(id: Int, total: String? = nil) {
        self.id = id
        self.total = total
    }
}

/// A webhook body, by topic.
public enum WooPayload: Sendable, Equatable {
    /// order.created / order.updated / order.restored: the full v3 order JSON.
    case order(WooOrder)
    /// order.deleted (moved to trash): the body is only `{"id": N}`.
    case deletedOrder(id: Int)
    /// action.<hook>: `{"action": "<hook>", "arg": <the hook's first argument>}`.
    case action(name: String, arg: JSONValue)
    /// Any other topic (product.*, customer.*, coupon.*): the body is not read.
    case other(topic: String)
}

/// Why a signed body could not be read, naming the field: "line_items[1].id is missing".
public struct WooParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public init(message: String) { self.message = message }
    public var description: String { message }
}
