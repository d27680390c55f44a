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
        try recall(store: store, orderID: orderID, lineIDs: lineIDs, refundIDs: refundIDs, in: db).memory
    }

    /// The memory, and the dedupe keys it looked for and found no job for.
    private static func recall(store: String, orderID: Int, lineIDs: [Int], refundIDs: [Int], in db: Database) throws
        -> (memory: WooOrderMemory, absentKeys: Set<String>) {
        var memory = WooOrderMemory()
        memory.newestModifiedGMT = try String.fetchOne(db.cachedStatement(sql: """
            SELECT newest_modified_gmt FROM woo_orders WHERE store = ? AND order_id = ?
            """), arguments: [store, orderID])
        let enrollKeys = lineIDs.map { WooKeys.enroll(store: store, order: orderID, line: $0) }
        let unenrollKeys = lineIDs.map { WooKeys.unenroll(store: store, order: orderID, line: $0) }
        let refundKeys = refundIDs.map { WooKeys.refund(store: store, order: orderID, refund: $0) }
        let keys = enrollKeys + unenrollKeys + refundKeys
        let found = try existingKeys(store: store, orderID: orderID, in: db)
        for (line, key) in zip(lineIDs, enrollKeys) where found.contains(key) { memory.linesWithEnroll.insert(line) }
        for (line, key) in zip(lineIDs, unenrollKeys) where found.contains(key) { memory.linesWithUnenroll.insert(line) }
        for (refund, key) in zip(refundIDs, refundKeys) where found.contains(key) { memory.refundsSeen.insert(refund) }
        return (memory, Set(keys).subtracting(found))
    }

    /// Every dedupe key of a job, live or pruned, that starts with the order's key prefix: one range seek per
    /// table on the unique key index. A new order (the usual case) finds nothing at once; a list of the order's
    /// keys (`IN (…)`) made SQLite build a temporary index of the list per query.
    private static func existingKeys(store: String, orderID: Int, in db: Database) throws -> Set<String> {
        let prefix = WooKeys.orderPrefix(store: store, order: orderID)
        // Keys are compared as bytes (BINARY collation): everything starting with "…:" sorts before "…;".
        let end = String(prefix.dropLast()) + ";"
        return Set(try String.fetchAll(db.cachedStatement(sql: """
            SELECT dedupe_key FROM jobs WHERE dedupe_key >= ?1 AND dedupe_key < ?2
            UNION ALL SELECT dedupe_key FROM pruned_jobs WHERE dedupe_key >= ?1 AND dedupe_key < ?2
            """), arguments: [prefix, end]))
    }

    public static func remember(store: String, orderID: Int, newestModifiedGMT: String?, status: String, at now: Date,
                                in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO woo_orders (store, order_id, newest_modified_gmt, status, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(store, order_id) DO UPDATE SET
                newest_modified_gmt = COALESCE(excluded.newest_modified_gmt, newest_modified_gmt),
                status = excluded.status, updated_at = excluded.updated_at
            """).execute(arguments: [store, orderID, newestModifiedGMT, status, StoredDate.text(now)])
    }

    /// The job behind a dedupe key, for the refund handler's "does this line have an enroll job?".
    public static func jobExists(dedupeKey: String, in db: Database) throws -> Bool {
        try JobTable.existingJob(dedupeKey: dedupeKey, in: db) != nil
    }
}

extension WooOrderLedger {
    /// A decision, with what the store learnt making it.
    public struct Decided: Sendable {
        public let decision: WooDecision
        /// Dedupe keys looked up in this transaction and found on no job: inserting their jobs needs no second look.
        let absentKeys: Set<String>
    }

    /// Decides a parsed delivery against what the store knows about its order. Call inside the transaction
    /// that will record the outcome, so concurrent deliveries of one order are decided in turn.
    ///
    /// - Parameter speculation: what `rules` decide for this payload when nothing is known about its order,
    ///   worked out before the transaction. Used as is when the memory read here is indeed empty (a new order,
    ///   the usual case), so the one writer does not spend its time mapping lines and encoding payloads.
    public static func decide(_ payload: WooPayload, rules: WooIntakeRules, storeID: String, deliveryKey: String,
                              speculation: WooDecision? = nil, in db: Database) throws -> Decided {
        var memory = WooOrderMemory()
        var absentKeys = Set<String>()
        if case .order(let order) = payload {
            (memory, absentKeys) = try recall(store: storeID, orderID: order.id, lineIDs: order.lineItems.map(\.id),
                                              refundIDs: order.refunds.map(\.id), in: db)
        }
        if let speculation, memory == WooOrderMemory() { return Decided(decision: speculation, absentKeys: absentKeys) }
        return Decided(decision: rules.decide(payload, memory: memory, deliveryID: deliveryKey), absentKeys: absentKeys)
    }

    /// Adds the decision's jobs and, unless the delivery was stale, remembers the order's newest state.
    public static func apply(_ decided: Decided, of payload: WooPayload, storeID: String, deliveryID: Int64?,
                             maxAttempts: Int, now: Date, in db: Database) throws -> [EnqueuedJob] {
        let decision = decided.decision
        let jobs = try JobTable.insert(decision.jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now,
                                       knownAbsent: decided.absentKeys, in: db)
        if case .order(let order) = payload, decision.verdict != .stale {
            try remember(store: storeID, orderID: order.id, newestModifiedGMT: decision.newestModifiedGMT,
                         status: order.status, at: now, in: db)
        }
        return jobs
    }
}
