import RegistrarCore

/// Orders sold through the hosted checkout: registered by a storefront, paid by a CyberSource callback,
/// reviewed by an operator.
public protocol OrderBook: Sendable {
    /// Registers an order and returns it as stored. A coupon is checked and a use of it reserved in the same
    /// commit, so racing orders never exceed its `max-uses`; a refused one throws `OrderError.coupon`. An order
    /// with nothing to pay is paid at once: its jobs, codes and sale are made in that commit too.
    /// Throws `OrderError.referenceTaken` when the reference exists.
    @discardableResult
    func createOrder(_ order: NewOrder) async throws -> Order
    func order(reference: String) async throws -> Order?
    /// Newest first; only those needing attention when `attentionOnly`.
    func orders(attentionOnly: Bool, limit: Int) async throws -> [Order]
    func payments(ofOrder reference: String) async throws -> [Payment]
    /// The jobs an order's payment created: exactly this reference's, whatever characters it holds.
    func jobs(ofOrder reference: String) async throws -> [Job]

    /// Records a verified callback and what it does to its order in one commit with its delivery: the payment,
    /// the order's new status and attention flag, and the enroll jobs of a paid order. A callback for an unknown
    /// order is recorded as rejected (404).
    func applyPayment(_ callback: VerifiedCallback, delivery: NewDelivery) async throws -> AppliedPayment

    /// An operator's verdict on an order held for review: accepted orders are paid and fulfilled in the same
    /// commit. Throws `OrderError.notFound` or `.notInReview`.
    func review(reference: String, accept: Bool, actor: String) async throws -> [EnqueuedJob]

    /// WooCommerce orders flagged for attention and not dismissed, oldest flag first.
    func storeOrdersNeedingAttention(limit: Int) async throws -> [FlaggedStoreOrder]

    /// Clears a WooCommerce order's flag once an operator has dealt with it (revoked codes or decided to keep the
    /// learners), audited under `actor`. Returns the flag cleared, nil when the order had none.
    func dismissStoreOrder(store: String, orderID: Int, actor: String, note: String?) async throws -> FlaggedStoreOrder?
}

extension OrderBook {
    public func orders(attentionOnly: Bool) async throws -> [Order] {
        try await orders(attentionOnly: attentionOnly, limit: 100)
    }
}
