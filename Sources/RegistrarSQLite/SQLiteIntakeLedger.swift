import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: IntakeLedger {
    @discardableResult
    public func recordDelivery(_ delivery: NewDelivery) async throws -> Int64 {
        let row = DeliveryRow(delivery, receivedAt: clock.now())
        return try await write { db in try DeliveryTable.record(row, in: db) }
    }

    public func recordWooCommerce(_ intake: WooIntake, delivery: NewDelivery) async throws -> WooIntakeOutcome {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        // Encoded here, on the caller's task, so the one writer spends its time writing.
        let row = DeliveryRow(delivery, receivedAt: now)
        let keys = intake.keys ?? Self.keys(of: intake)
        let outcome = try await write { db -> WooIntakeOutcome in
            let decided = try WooOrderLedger.decide(intake, keys: keys, in: db)
            return try WooOrderLedger.take(decided, delivery: row, of: intake, maxAttempts: maxAttempts, now: now, in: db)
        }
        jobsMayRun(outcome.jobs.contains(where: \.created))
        return outcome
    }

    public func reconcileWooCommerce(_ intake: WooIntake, deliveryID: Int64?) async throws -> WooIntakeOutcome {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let keys = intake.keys ?? Self.keys(of: intake)
        let outcome = try await write { db -> WooIntakeOutcome in
            let decided = try WooOrderLedger.decide(intake, keys: keys, in: db)
            let (jobs, seatNotes) = try WooOrderLedger.apply(decided, of: intake.payload, storeID: intake.rules.store.id,
                                                              deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
            var decision = decided.decision
            decision.notes += seatNotes
            return WooIntakeOutcome(deliveryID: deliveryID, decision: decision, jobs: jobs)
        }
        jobsMayRun(outcome.jobs.contains(where: \.created))
        return outcome
    }

    public func wooOrderMemory(_ keys: WooOrderKeys) async throws -> WooOrderMemory {
        try await read { db in try WooOrderLedger.recall(keys, in: db).memory }
    }

    public func refundSeats(_ refunds: [SeatRefund], deliveryID: Int64?) async throws -> [String] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        return try await write { db in
            try refunds.flatMap { try SeatLedger.refund($0, deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db) }
        }
    }

    static func keys(of intake: WooIntake) -> WooOrderKeys? {
        if case .order(let order) = intake.payload { return WooOrderKeys(store: intake.rules.store.id, order: order) }
        return nil
    }
}
