/// What operators read of the delivery ledger: every webhook and callback as received, with its verdict.
public protocol DeliveryLog: Sendable {
    /// Newest first.
    func deliveries(_ filter: DeliveryFilter) async throws -> [Delivery]
    func delivery(id: Int64) async throws -> Delivery?
    /// Deletes up to `limit` deliveries received before their retention ended — rejected ones after
    /// `rejectedRetention`, the rest after `retention` — except any a job still in the table refers to (its
    /// detail shows the delivery) or a payment records. Returns how many went; call again until 0.
    func pruneDeliveries(olderThan retention: Duration, rejectedOlderThan rejectedRetention: Duration, limit: Int)
        async throws -> Int
}
