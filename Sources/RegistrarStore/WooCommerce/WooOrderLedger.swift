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
        try recall(WooOrderKeys(store: store, orderID: orderID, lineIDs: lineIDs, refundIDs: refundIDs), in: db).memory
    }

    /// The memory, and the dedupe keys it looked for and found no job for.
    private static func recall(_ keys: WooOrderKeys, in db: Database) throws
        -> (memory: WooOrderMemory, absentKeys: Set<String>) {
        var memory = WooOrderMemory()
        var found = Set<String>()
        for text in try recorded(store: keys.store, orderID: keys.orderID, in: db) {
            guard let text else { continue }
            if text.hasPrefix("#") { memory.newestModifiedGMT = String(text.dropFirst()) } else { found.insert(text) }
        }
        if found.isEmpty { return (memory, keys.all) }
        for (line, key) in keys.enroll where found.contains(key) { memory.linesWithEnroll.insert(line) }
        for (line, key) in keys.unenroll where found.contains(key) { memory.linesWithUnenroll.insert(line) }
        for (refund, key) in keys.refund where found.contains(key) { memory.refundsSeen.insert(refund) }
        return (memory, keys.all.subtracting(found))
    }

    /// In one statement, as the one writer runs it for every order delivery: the newest timestamp accepted for
    /// the order, marked by a leading "#" (no dedupe key starts with one), and every dedupe key of a job, live or
    /// pruned, that starts with the order's key prefix — a range seek per table on the unique key index. A new
    /// order (the usual case) finds nothing at once; a list of the order's keys (`IN (…)`) made SQLite build a
    /// temporary index of the list per query.
    private static func recorded(store: String, orderID: Int, in db: Database) throws -> [String?] {
        let prefix = WooKeys.orderPrefix(store: store, order: orderID)
        // Keys are compared as bytes (BINARY collation): everything starting with "…:" sorts before "…;".
        let end = String(prefix.dropLast()) + ";"
        return try String?.fetchAll(db.cachedStatement(sql: """
            SELECT '#' || newest_modified_gmt FROM woo_orders WHERE store = ?3 AND order_id = ?4
            UNION ALL SELECT dedupe_key FROM jobs WHERE dedupe_key >= ?1 AND dedupe_key < ?2
            UNION ALL SELECT dedupe_key FROM pruned_jobs WHERE dedupe_key >= ?1 AND dedupe_key < ?2
            """), arguments: [prefix, end, store, orderID])
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

/// The dedupe keys an order's jobs would have, worked out before the transaction that looks them up.
public struct WooOrderKeys: Sendable {
    let store: String
    let orderID: Int
    let enroll: [(line: Int, key: String)]
    let unenroll: [(line: Int, key: String)]
    let refund: [(refund: Int, key: String)]
    let all: Set<String>

    public init(store: String, order: WooOrder) {
        self.init(store: store, orderID: order.id, lineIDs: order.lineItems.map(\.id), refundIDs: order.refunds.map(\.id))
    }

    init(store: String, orderID: Int, lineIDs: [Int], refundIDs: [Int]) {
        self.store = store
        self.orderID = orderID
        enroll = lineIDs.map { ($0, WooKeys.enroll(store: store, order: orderID, line: $0)) }
        unenroll = lineIDs.map { ($0, WooKeys.unenroll(store: store, order: orderID, line: $0)) }
        refund = refundIDs.map { ($0, WooKeys.refund(store: store, order: orderID, refund: $0)) }
        all = Set(enroll.map(\.key) + unenroll.map(\.key) + refund.map(\.key))
    }
}

extension WooOrderLedger {
    /// A decision, with what the store learnt making it.
    public struct Decided: Sendable {
        public let decision: WooDecision
        /// Dedupe keys looked up in this transaction and found on no job: inserting their jobs needs no second look.
        let absentKeys: Set<String>

        /// Every job of the decision is sure to be created, once each.
        var createsEveryJob: Bool {
            Set(decision.jobs.map(\.dedupeKey)).count == decision.jobs.count
                && decision.jobs.allSatisfy { absentKeys.contains($0.dedupeKey) }
        }
    }

    /// Decides a parsed delivery against what the store knows about its order. Call inside the transaction
    /// that will record the outcome, so concurrent deliveries of one order are decided in turn.
    ///
    /// - Parameters:
    ///   - speculation: what `rules` decide for this payload when nothing is known about its order, worked out
    ///     before the transaction. Used as is when the memory read here is indeed empty (a new order, the usual
    ///     case), so the one writer does not spend its time mapping lines and encoding payloads.
    ///   - keys: the order's dedupe keys, also worked out before the transaction (made here when not given).
    public static func decide(_ payload: WooPayload, rules: WooIntakeRules, storeID: String, deliveryKey: String,
                              speculation: WooDecision? = nil, keys: WooOrderKeys? = nil, in db: Database) throws
        -> Decided {
        var memory = WooOrderMemory()
        var absentKeys = Set<String>()
        if case .order(let order) = payload {
            (memory, absentKeys) = try recall(keys ?? WooOrderKeys(store: storeID, order: order), in: db)
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

    /// Intake's whole transaction for a verified, parsed delivery: decide it against what the store knows, then
    /// record it, with its verdict, and its jobs. See `decide` for `speculation` and `keys`.
    public static func intake(_ payload: WooPayload, delivery: DeliveryRow, rules: WooIntakeRules, storeID: String,
                              deliveryKey: String, speculation: WooDecision?, keys: WooOrderKeys?, maxAttempts: Int,
                              now: Date, in db: Database) throws
        -> (deliveryID: Int64, decision: WooDecision, jobs: [EnqueuedJob]) {
        let decided = try decide(payload, rules: rules, storeID: storeID, deliveryKey: deliveryKey,
                                 speculation: speculation, keys: keys, in: db)
        let decision = decided.decision
        var row = delivery
        row.verdict = decision.verdict.rawValue
        let reason = ([decision.reason].compactMap { $0 } + decision.notes).joined(separator: "; ")
        row.reason = reason.isEmpty ? nil : reason
        let (deliveryID, jobs) = try record(row, deciding: decided, of: payload, storeID: storeID,
                                            maxAttempts: maxAttempts, now: now, in: db)
        return (deliveryID, decision, jobs)
    }

    /// Records the delivery and applies the decision, in the caller's transaction. The delivery's row lists its
    /// jobs. When every job is new (a new order, the usual case) their ids are known before they exist and are
    /// written with the row; otherwise, or if an id turns out other than foreseen, the list is set afterwards.
    /// Rewriting the row, body and all, had been the costliest statement of a delivery but the job inserts.
    public static func record(_ delivery: DeliveryRow, deciding decided: Decided, of payload: WooPayload,
                              storeID: String, maxAttempts: Int, now: Date, in db: Database) throws
        -> (deliveryID: Int64, jobs: [EnqueuedJob]) {
        let count = decided.decision.jobs.count
        let foreseen = count > 0 && decided.createsEveryJob ? try JobTable.nextIDs(count: count, in: db) : []
        let deliveryID = try DeliveryLedger.record(delivery, jobIDs: foreseen, in: db)
        let jobs = try apply(decided, of: payload, storeID: storeID, deliveryID: deliveryID, maxAttempts: maxAttempts,
                             now: now, in: db)
        let ids = jobs.map(\.id)
        if ids != foreseen { try DeliveryLedger.setJobs(ids, ofDelivery: deliveryID, in: db) }
        return (deliveryID, jobs)
    }
}
