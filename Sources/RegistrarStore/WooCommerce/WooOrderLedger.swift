import Foundation
import GRDB
import RegistrarCore

/// What the store knows about WooCommerce orders, read and written inside the intake's transaction so that
/// two deliveries of one order racing each other are decided one after the other.
public enum WooOrderLedger {
    /// The memory the intake rules decide against: the newest timestamp accepted, and which of the order's
    /// lines and refunds already have jobs (found through their dedupe keys, so the job table stays the one
    /// source of truth).
    public static func memory(store: String, orderID: Int, lineIDs: [Int], refundIDs: [Int], in db: Database) throws
        -> WooOrderMemory {
        var memory = WooOrderMemory()
        memory.newestModifiedGMT = try String.fetchOne(db, sql: """
            SELECT newest_modified_gmt FROM woo_orders WHERE store = ? AND order_id = ?
            """, arguments: [store, orderID])
        for line in lineIDs {
            if try exists(WooKeys.enroll(store: store, order: orderID, line: line), in: db) { memory.linesWithEnroll.insert(line) }
            if try exists(WooKeys.unenroll(store: store, order: orderID, line: line), in: db) { memory.linesWithUnenroll.insert(line) }
        }
        for refund in refundIDs where try exists(WooKeys.refund(store: store, order: orderID, refund: refund), in: db) {
            memory.refundsSeen.insert(refund)
        }
        return memory
    }

    public static func remember(store: String, orderID: Int, newestModifiedGMT: String?, status: String, at now: Date,
                                in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO woo_orders (store, order_id, newest_modified_gmt, status, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(store, order_id) DO UPDATE SET
                newest_modified_gmt = COALESCE(excluded.newest_modified_gmt, newest_modified_gmt),
                status = excluded.status, updated_at = excluded.updated_at
            """, arguments: [store, orderID, newestModifiedGMT, status, now])
    }

    /// The job behind a dedupe key, for the refund handler's "does this line have an enroll job?".
    public static func jobExists(dedupeKey: String, in db: Database) throws -> Bool {
        try exists(dedupeKey, in: db)
    }

    private static func exists(_ dedupeKey: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM jobs WHERE dedupe_key = ?) OR EXISTS (SELECT 1 FROM pruned_jobs WHERE dedupe_key = ?)
            """, arguments: [dedupeKey, dedupeKey]) ?? false
    }
}

extension WooOrderLedger {
    /// Decides a parsed delivery against what the store knows about its order. Call inside the transaction
    /// that will record the outcome, so concurrent deliveries of one order are decided in turn.
    public static func decide(_ payload: WooPayload, rules: WooIntakeRules, storeID: String, deliveryKey: String,
                              in db: Database) throws
        -> WooDecision {
        var memory = WooOrderMemory()
        if case .order(let order) = payload {
            memory = try Self.memory(store: storeID, orderID: order.id, lineIDs: order.lineItems.map(\.id),
                                     refundIDs: order.refunds.map(\.id), in: db)
        }
        return rules.decide(payload, memory: memory, deliveryID: deliveryKey)
    }

    /// Adds the decision's jobs and, unless the delivery was stale, remembers the order's newest state.
    public static func apply(_ decision: WooDecision, of payload: WooPayload, storeID: String, deliveryID: Int64?,
                             maxAttempts: Int, now: Date, in db: Database) throws -> [EnqueuedJob] {
        let jobs = try JobTable.insert(decision.jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
        if case .order(let order) = payload, decision.verdict != .stale {
            try remember(store: storeID, orderID: order.id, newestModifiedGMT: decision.newestModifiedGMT,
                         status: order.status, at: now, in: db)
        }
        return jobs
    }
}
