/// Seats of a WooCommerce line sold as codes that the store's refunds have given back, counted over every refund
/// of the order so far. The store keeps the largest count it has seen per line and voids that many of the line's
/// codes, unredeemed ones newest first (`SeatRules`); the line's quantity in later deliveries does not shrink,
/// so the count is what keeps a refunded seat from being made again.
public struct SeatRefund: Sendable, Equatable {
    public var store: String
    public var orderID: Int
    public var orderNumber: String
    public var lineID: Int
    public var courseID: String
    public var mode: String?
    /// The line's quantity.
    public var quantity: Int
    /// Seats refunded over every refund of the order, at most `quantity`.
    public var refunded: Int
    public var buyerEmail: String?

    public init(store: String, orderID: Int, orderNumber: String, lineID: Int, courseID: String, mode: String?, quantity: Int,
                refunded: Int, buyerEmail: String?) {
        self.store = store
        self.orderID = orderID
        self.orderNumber = orderNumber
        self.lineID = lineID
        self.courseID = courseID
        self.mode = mode
        self.quantity = quantity
        self.refunded = min(max(0, refunded), quantity)
        self.buyerEmail = buyerEmail
    }

    /// The line as sold; the store subtracts the refunded seats it has recorded.
    public var grant: SeatGrant {
        SeatGrant(store: store, orderID: orderID, orderNumber: orderNumber, lineID: lineID, courseID: courseID, mode: mode,
                  seats: quantity, buyerEmail: buyerEmail)
    }
}
