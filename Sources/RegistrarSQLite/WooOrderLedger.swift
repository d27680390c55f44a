import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// What the store knows about WooCommerce orders, read and written inside intake's transaction so that two
/// deliveries of one order racing each other are decided one after the other.
enum WooOrderLedger {
    /// A decision, with what the store learnt making it.
    struct Decided {
        let decision: WooDecision
        /// Dedupe keys looked up in this transaction and found on no job: inserting their jobs needs no second look.
        let absentKeys: Set<String>

        /// Every job of the decision is sure to be created, once each.
        var createsEveryJob: Bool {
            Set(decision.jobs.map(\.dedupeKey)).count == decision.jobs.count
                && decision.jobs.allSatisfy { absentKeys.contains($0.dedupeKey) }
        }
    }

    /// The order's memory, and the dedupe keys it looked for and found no job for.
    static func recall(_ keys: WooOrderKeys, in db: Database) throws -> (memory: WooOrderMemory, absentKeys: Set<String>) {
        var newest: String?
        var found = Set<String>()
        for text in try recorded(keys, in: db) {
            guard let text else { continue }
            if text.hasPrefix("#") { newest = String(text.dropFirst()) } else { found.insert(text) }
        }
        return keys.memory(newestModifiedGMT: newest, foundKeys: found)
    }

    /// In one statement, as the one writer runs it for every order delivery: the newest timestamp accepted for
    /// the order, marked by a leading "#" (no dedupe key starts with one), and every dedupe key of a job, live or
    /// pruned, that starts with the order's key prefix — a range seek per table on the unique key index. A new
    /// order (the usual case) finds nothing at once; a list of the order's keys (`IN (…)`) made SQLite build a
    /// temporary index of the list per query.
    private static func recorded(_ keys: WooOrderKeys, in db: Database) throws -> [String?] {
        let prefix = keys.prefix
        // Keys are compared as bytes (BINARY collation): everything starting with "…:" sorts before "…;".
        let end = String(prefix.dropLast()) + ";"
        return try String?.fetchAll(db.cachedStatement(sql: """
            SELECT '#' || newest_modified_gmt FROM woo_orders WHERE store = ?3 AND order_id = ?4
            UNION ALL SELECT dedupe_key FROM jobs WHERE dedupe_key >= ?1 AND dedupe_key < ?2
            UNION ALL SELECT dedupe_key FROM pruned_jobs WHERE dedupe_key >= ?1 AND dedupe_key < ?2
            """), arguments: [prefix, end, keys.store, keys.orderID])
    }

    /// Decides an order fact against what the store knows about its order, inside the transaction that will
    /// record the outcome. The intake's speculation is used as is when the memory read here is empty.
    static func decide(_ intake: WooIntake, keys: WooOrderKeys?, in db: Database) throws -> Decided {
        var memory = WooOrderMemory()
        var absentKeys = Set<String>()
        if let keys { (memory, absentKeys) = try recall(keys, in: db) }
        return decide(intake, memory: memory, absentKeys: absentKeys)
    }

    /// The same, with the memory already read.
    static func decide(_ intake: WooIntake, memory: WooOrderMemory, absentKeys: Set<String>) -> Decided {
        if let speculation = intake.speculation, memory == WooOrderMemory() {
            return Decided(decision: speculation, absentKeys: absentKeys)
        }
        return Decided(decision: intake.rules.decide(intake.payload, memory: memory, deliveryID: intake.deliveryKey),
                       absentKeys: absentKeys)
    }

    /// Adds the decision's jobs and, unless the delivery was stale, remembers the order's newest state.
    /// Also brings seat lines' codes in line with the seats they hold (`SeatLedger`); what that did comes back
    /// as notes for the delivery.
    static func apply(_ decided: Decided, of payload: WooPayload, storeID: String, deliveryID: Int64?, maxAttempts: Int,
                      now: Date, in db: Database) throws -> (jobs: [EnqueuedJob], seatNotes: [String]) {
        let decision = decided.decision
        let jobs = try JobTable.insert(decision.jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now,
                                       knownAbsent: decided.absentKeys, in: db)
        if case .order(let order) = payload, decision.verdict != .stale {
            try db.cachedStatement(sql: """
                INSERT INTO woo_orders (store, order_id, newest_modified_gmt, status, updated_at, total, currency)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(store, order_id) DO UPDATE SET
                    newest_modified_gmt = COALESCE(excluded.newest_modified_gmt, newest_modified_gmt),
                    status = excluded.status, updated_at = excluded.updated_at,
                    total = COALESCE(total, excluded.total), currency = COALESCE(currency, excluded.currency)
                """).execute(arguments: [storeID, order.id, decision.newestModifiedGMT, order.status, StoredDate.text(now),
                                          order.totalText, order.currency])
        }
        // A line's sale once: when its enroll job is new, or (a line sold as codes) before its first codes are made.
        var sales: [SaleLine] = []
        for sale in decision.sales {
            if let key = sale.enrollKey {
                if decided.absentKeys.contains(key) && decision.jobs.contains(where: { $0.dedupeKey == key }) { sales.append(sale) }
            } else if try !(Bool.fetchOne(db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM codes INDEXED BY codes_source WHERE source = 'order' AND source_ref = ?)
                """), arguments: ["\(sale.orderRef):\(sale.line)"]) ?? false) {
                sales.append(sale)
            }
        }
        if !sales.isEmpty {
            try SalesTable.record(sales, paidAt: now, json: sales.count == decision.sales.count ? decision.salesJSON : nil, in: db)
        }
        if !decision.refunds.isEmpty { try SalesTable.record(decision.refunds, at: now, by: "woocommerce:\(storeID)", in: db) }
        // After the order's row exists: a shortfall of seats flags it.
        var seatNotes: [String] = []
        for grant in decision.seats {
            seatNotes += try SeatLedger.apply(grant, deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
        }
        return (jobs, seatNotes)
    }

    /// Records a delivery of an order fact with the verdict and reason of its decision, and applies the decision:
    /// what intake does with a webhook delivery and catch-up with a listed order.
    static func take(_ decided: Decided, delivery row: DeliveryRow, of intake: WooIntake, maxAttempts: Int, now: Date,
                     in db: Database) throws -> WooIntakeOutcome {
        var row = row
        row.verdict = decided.decision.verdict.rawValue
        let reason = ([decided.decision.reason].compactMap { $0 } + decided.decision.notes).joined(separator: "; ")
        row.reason = reason.isEmpty ? nil : CardNumberMasking.masked(reason)
        return try record(row, deciding: decided, of: intake.payload, storeID: intake.rules.store.id,
                          maxAttempts: maxAttempts, now: now, in: db)
    }

    /// Records the delivery and applies the decision. The delivery's row lists its jobs. When every job is new (a
    /// new order, the usual case) their ids are known before they exist and are written with the row; otherwise,
    /// or if an id turns out other than foreseen, the list is set afterwards. Rewriting the row, body and all, had
    /// been the costliest statement of a delivery but the job inserts.
    static func record(_ delivery: DeliveryRow, deciding decided: Decided, of payload: WooPayload, storeID: String,
                       maxAttempts: Int, now: Date, in db: Database) throws -> WooIntakeOutcome {
        let count = decided.decision.jobs.count
        let foreseen = count > 0 && decided.createsEveryJob ? try JobTable.nextIDs(count: count, in: db) : []
        let deliveryID = try DeliveryTable.record(delivery, jobIDs: foreseen, in: db)
        let (jobs, seatNotes) = try apply(decided, of: payload, storeID: storeID, deliveryID: deliveryID, maxAttempts: maxAttempts,
                                          now: now, in: db)
        let ids = jobs.map(\.id)
        if ids != foreseen { try DeliveryTable.setJobs(ids, ofDelivery: deliveryID, in: db) }
        var decision = decided.decision
        if !seatNotes.isEmpty {
            // Only orders selling seats as codes pay for this second write of their delivery's row.
            try db.execute(sql: "UPDATE deliveries SET reason = COALESCE(reason || '; ', '') || ? WHERE id = ?",
                           arguments: [seatNotes.joined(separator: "; "), deliveryID])
            decision.notes += seatNotes
        }
        return WooIntakeOutcome(deliveryID: deliveryID, decision: decision, jobs: jobs)
    }
}
