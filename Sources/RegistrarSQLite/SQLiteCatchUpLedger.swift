import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: CatchUpLedger {
    public func beginCatchUp(store: String, holder: String, leaseUntil: Date, initialCursor: WooModifiedTime) async throws
        -> CatchUpState? {
        let now = clock.now()
        return try await write { db -> CatchUpState? in
            try db.execute(sql: "INSERT INTO woo_catch_up (store, cursor) VALUES (?, ?) ON CONFLICT(store) DO NOTHING",
                           arguments: [store, initialCursor.canonical])
            let taken = try db.cachedStatement(sql: """
                UPDATE woo_catch_up SET lease_holder = ?2, lease_expires_at = ?3, last_started_at = ?4
                WHERE store = ?1 AND (lease_holder IS NULL OR lease_holder = ?2 OR lease_expires_at <= ?4)
                """)
            try taken.execute(arguments: [store, holder, StoredDate.text(leaseUntil), StoredDate.text(now)])
            guard db.changesCount == 1 else { return nil }
            return try Self.catchUpState(store, in: db)
        }
    }

    public func recordCatchUpPage(store: String, holder: String, orders: [CatchUpOrder], cursor: WooModifiedTime?,
                                  leaseUntil: Date) async throws -> [CatchUpOrderOutcome] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        // Encoded here, on the caller's task, so the one writer spends its time writing.
        let rows = orders.map { DeliveryRow($0.delivery, receivedAt: now) }
        let outcomes = try await write { db -> [CatchUpOrderOutcome] in
            guard try Self.holdsLease(store, holder, now: now, in: db) else { throw CatchUpLeaseLost(store: store) }
            var outcomes: [CatchUpOrderOutcome] = []
            outcomes.reserveCapacity(orders.count)
            var recovered = 0
            for (order, row) in zip(orders, rows) {
                guard let intake = order.intake else {
                    let id = try DeliveryTable.record(row, in: db)
                    outcomes.append(CatchUpOrderOutcome(orderID: nil, alreadySeen: false, deliveryID: id, decision: nil,
                                                        jobs: [], rejection: row.reason))
                    continue
                }
                let keys = intake.keys ?? Self.keys(of: intake)
                var memory = WooOrderMemory()
                var absentKeys = Set<String>()
                if let keys { (memory, absentKeys) = try WooOrderLedger.recall(keys, in: db) }
                if memory.hasSeen(modifiedGMT: order.order?.dateModifiedGMT) {
                    outcomes.append(CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: true, deliveryID: nil,
                                                        decision: nil, jobs: []))
                    continue
                }
                let decided = WooOrderLedger.decide(intake, memory: memory, absentKeys: absentKeys)
                let taken = try WooOrderLedger.take(decided, delivery: row, of: intake, maxAttempts: maxAttempts, now: now,
                                                    in: db)
                let outcome = CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: false, deliveryID: taken.deliveryID,
                                                  decision: taken.decision, jobs: taken.jobs)
                if outcome.recovered { recovered += 1 }
                outcomes.append(outcome)
            }
            try Self.moveCursor(store, to: cursor, in: db)
            try db.cachedStatement(sql: """
                UPDATE woo_catch_up SET lease_expires_at = ?, recovered_total = recovered_total + ? WHERE store = ?
                """).execute(arguments: [StoredDate.text(leaseUntil), recovered, store])
            return outcomes
        }
        jobsMayRun(outcomes.contains(where: \.recovered))
        return outcomes
    }

    public func previewCatchUp(_ orders: [CatchUpOrder]) async throws -> [CatchUpOrderOutcome] {
        try await read { db in
            try orders.map { order -> CatchUpOrderOutcome in
                guard let intake = order.intake else {
                    return CatchUpOrderOutcome(orderID: nil, alreadySeen: false, deliveryID: nil, decision: nil, jobs: [],
                                               rejection: order.delivery.reason)
                }
                var memory = WooOrderMemory()
                var absentKeys = Set<String>()
                if let keys = intake.keys ?? Self.keys(of: intake) { (memory, absentKeys) = try WooOrderLedger.recall(keys, in: db) }
                if memory.hasSeen(modifiedGMT: order.order?.dateModifiedGMT) {
                    return CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: true, deliveryID: nil, decision: nil,
                                               jobs: [])
                }
                let decision = WooOrderLedger.decide(intake, memory: memory, absentKeys: absentKeys).decision
                var keysSeen = Set<String>()
                let jobs = try decision.jobs.map { job -> EnqueuedJob in
                    let exists = try !keysSeen.insert(job.dedupeKey).inserted || Self.jobExists(dedupeKey: job.dedupeKey, in: db)
                    return EnqueuedJob(id: 0, dedupeKey: job.dedupeKey, created: !exists, state: .queued)
                }
                return CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: false, deliveryID: nil, decision: decision,
                                           jobs: jobs)
            }
        }
    }

    public func finishCatchUp(store: String, holder: String, result: CatchUpResult) async throws {
        let now = StoredDate.text(clock.now())
        let webhooks = result.webhooks.flatMap { try? JSONText.encode($0) }
        try await write { db in
            try db.execute(sql: """
                UPDATE woo_catch_up SET
                    lease_holder = NULL, lease_expires_at = NULL, last_finished_at = ?3,
                    last_succeeded_at = CASE WHEN ?4 THEN ?3 ELSE last_succeeded_at END,
                    last_result = CASE WHEN ?4 THEN 'succeeded' ELSE 'failed' END, last_error = ?5,
                    last_listed = ?6, last_recovered = ?7, ignores_modified_after = ?8,
                    webhooks = COALESCE(?9, webhooks),
                    webhooks_checked_at = CASE WHEN ?9 IS NULL THEN webhooks_checked_at ELSE ?3 END
                WHERE store = ?1 AND lease_holder = ?2
                """, arguments: [store, holder, now, result.succeeded, result.error, result.listed, result.recovered,
                                 result.ignoresModifiedAfter, webhooks])
        }
    }

    public func catchUpStates() async throws -> [CatchUpState] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM woo_catch_up ORDER BY store").map(Self.catchUpState)
        }
    }

    public func lastWebhook(store: String) async throws -> Date? {
        // Newest first, from the end of the table: the store's latest delivery is normally among the last rows.
        try await read { db in
            try Date.fetchOne(db, sql: """
                SELECT received_at FROM deliveries WHERE source = 'woocommerce' AND channel = ? AND verdict <> 'rejected'
                ORDER BY id DESC LIMIT 1
                """, arguments: [store])
        }
    }

    // MARK: Rows

    static func catchUpState(_ store: String, in db: Database) throws -> CatchUpState? {
        try Row.fetchOne(db, sql: "SELECT * FROM woo_catch_up WHERE store = ?", arguments: [store]).map(catchUpState)
    }

    static func catchUpState(_ row: Row) -> CatchUpState {
        let webhooks: String? = row["webhooks"]
        return CatchUpState(
            store: row["store"], cursor: (row["cursor"] as String?).flatMap(WooModifiedTime.init),
            leaseHolder: row["lease_holder"], leaseExpiresAt: row["lease_expires_at"], lastStartedAt: row["last_started_at"],
            lastFinishedAt: row["last_finished_at"], lastSucceededAt: row["last_succeeded_at"],
            lastResult: row["last_result"], lastError: row["last_error"], lastListed: row["last_listed"],
            lastRecovered: row["last_recovered"], recoveredTotal: row["recovered_total"],
            ignoresModifiedAfter: row["ignores_modified_after"],
            webhooks: webhooks.flatMap { try? JSONText.decode(WooWebhookHealth.self, from: $0) },
            webhooksCheckedAt: row["webhooks_checked_at"])
    }

    private static func holdsLease(_ store: String, _ holder: String, now: Date, in db: Database) throws -> Bool {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT lease_holder, lease_expires_at FROM woo_catch_up WHERE store = ?"),
                                   arguments: [store])
        guard let row, (row["lease_holder"] as String?) == holder else { return false }
        // Expired but not yet taken by anyone: still this holder's to use.
        return true
    }

    /// Forward only: a page of a walk that started late never moves the cursor back.
    private static func moveCursor(_ store: String, to cursor: WooModifiedTime?, in db: Database) throws {
        guard let cursor else { return }
        let current = try String.fetchOne(db.cachedStatement(sql: "SELECT cursor FROM woo_catch_up WHERE store = ?"),
                                          arguments: [store]).flatMap(WooModifiedTime.init)
        if let current, current >= cursor { return }
        try db.cachedStatement(sql: "UPDATE woo_catch_up SET cursor = ? WHERE store = ?").execute(arguments: [cursor.canonical, store])
    }

    private static func jobExists(dedupeKey: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM jobs WHERE dedupe_key = ?1) OR EXISTS (SELECT 1 FROM pruned_jobs WHERE dedupe_key = ?1)
            """), arguments: [dedupeKey]) ?? false
    }
}
