import RegistrarCore

/// What intake does: record every delivery, and for a verified order fact read the order's memory, decide, and
/// write the delivery and its jobs, all in one commit (so two deliveries of one order are decided in turn).
public protocol IntakeLedger: DeliveryRecorder {

    /// Decides a verified WooCommerce delivery against the order's memory and records it, with the decision's
    /// verdict and reason, its jobs, and (unless stale) the order's newest state, in one commit. The delivery's
    /// `verdict` and `reason` are replaced by the decision's.
    func recordWooCommerce(_ intake: WooIntake, delivery: NewDelivery) async throws -> WooIntakeOutcome

    /// The same decision for an order read from the store's REST API rather than delivered: its jobs are linked
    /// to `deliveryID` (the delivery that asked for the read) and no delivery is recorded.
    func reconcileWooCommerce(_ intake: WooIntake, deliveryID: Int64?) async throws -> WooIntakeOutcome

    /// What the store knows about a WooCommerce order: the newest timestamp accepted and which of `keys`' lines
    /// and refunds already have jobs (live or pruned).
    func wooOrderMemory(_ keys: WooOrderKeys) async throws -> WooOrderMemory

    /// Records the seats a WooCommerce order's refunds gave back on lines sold as codes and, in the same commit,
    /// voids that many of each line's codes, unredeemed ones newest first; a shortfall leaves the redeemed codes
    /// alone and flags the order. Applying the same counts again changes nothing. Returns what was done.
    func refundSeats(_ refunds: [SeatRefund], deliveryID: Int64?) async throws -> [String]
}

/// Records a delivery that creates no jobs: the part of intake every backend has from its first version.
public protocol DeliveryRecorder: Sendable {
    /// Records a delivery that creates no jobs (rejected, ignored, ping). Returns its id.
    @discardableResult
    func recordDelivery(_ delivery: NewDelivery) async throws -> Int64
}
