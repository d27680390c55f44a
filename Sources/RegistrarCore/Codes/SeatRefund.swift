/// Seats of a WooCommerce line sold as codes that the store's refunds have given back, counted over every refund
/// of the order so far. The store keeps the largest count it has seen per line and voids that many of the line's
/// codes, unredeemed ones newest first (`SeatRules`); the line's quantity in later deliveries does not shrink,
/// so the count is what keeps a refunded seat from being made again.
public struct SeatRefund: Sendable, Equatable {
    /// The line as sold (its quantity as `seats`); the store subtracts the refunded seats it has recorded.
    public var grant: SeatGrant
    /// Seats refunded over every refund of the order, at most the line's quantity.
    public var refunded: Int

    public init(_ grant: SeatGrant, refunded: Int) {
        self.grant = grant
        self.refunded = min(max(0, refunded), grant.seats)
    }
}
