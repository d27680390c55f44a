import Foundation
import RegistrarCore

/// A WooCommerce order that needs a person: a refund took back more seats than the line had unredeemed codes.
public struct FlaggedStoreOrder: Sendable, Equatable {
    public var store: String
    public var orderID: Int
    public var attention: OrderAttention
    /// Which line, which codes are redeemed and by whom, and what the operator can do.
    public var detail: String
    public var since: Date

    public init(store: String, orderID: Int, attention: OrderAttention, detail: String, since: Date) {
        self.store = store
        self.orderID = orderID
        self.attention = attention
        self.detail = detail
        self.since = since
    }

    /// How operators name it: `orders dismiss main:727`.
    public var reference: String { "\(store):\(orderID)" }

    /// Reads `STORE:ORDER_ID`; nil for anything else.
    public static func parseReference(_ text: String) -> (store: String, orderID: Int)? {
        guard let colon = text.lastIndex(of: ":"), let id = Int(text[text.index(after: colon)...]), id > 0 else { return nil }
        let store = String(text[..<colon])
        return store.isEmpty ? nil : (store, id)
    }
}
