/// What operators read of the delivery ledger: every webhook and callback as received, with its verdict.
public protocol DeliveryLog: Sendable {
    /// Newest first.
    func deliveries(_ filter: DeliveryFilter) async throws -> [Delivery]
    func delivery(id: Int64) async throws -> Delivery?
}
