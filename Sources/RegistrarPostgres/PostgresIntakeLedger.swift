import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: IntakeLedger {
    public func recordWooCommerce(_ intake: WooIntake, delivery: NewDelivery) async throws -> WooIntakeOutcome {
        let keys = intake.keys ?? Self.keys(of: intake)
        if let keys, let taken = try await WooOrders.takeNew(intake, keys: keys, delivery: delivery, in: self) {
            jobsMayRun(taken.jobs.contains(where: \.created))
            return taken
        }
        let outcome = try await write { tx -> WooIntakeOutcome in
            if let keys { try await tx.lock(WooOrders.lockKey(store: keys.store, orderID: keys.orderID)) }
            let decided = try await WooOrders.decide(intake, keys: keys, in: tx)
            return try await WooOrders.take(decided, delivery: delivery, of: intake, in: tx)
        }
        jobsMayRun(outcome.jobs.contains(where: \.created))
        return outcome
    }

    public func reconcileWooCommerce(_ intake: WooIntake, deliveryID: Int64?) async throws -> WooIntakeOutcome {
        let keys = intake.keys ?? Self.keys(of: intake)
        let outcome = try await write { tx -> WooIntakeOutcome in
            if let keys { try await tx.lock(WooOrders.lockKey(store: keys.store, orderID: keys.orderID)) }
            let decided = try await WooOrders.decide(intake, keys: keys, in: tx)
            let (jobs, seatNotes) = try await WooOrders.apply(decided, of: intake.payload, storeID: intake.rules.store.id,
                                                              deliveryID: deliveryID, in: tx)
            var decision = decided.decision
            decision.notes += seatNotes
            return WooIntakeOutcome(deliveryID: deliveryID, decision: decision, jobs: jobs)
        }
        jobsMayRun(outcome.jobs.contains(where: \.created))
        return outcome
    }

    public func wooOrderMemory(_ keys: WooOrderKeys) async throws -> WooOrderMemory {
        try await snapshot { tx in try await WooOrders.recall(keys, in: tx).memory }
    }

    public func refundSeats(_ refunds: [SeatRefund], deliveryID: Int64?) async throws -> [String] {
        try await write { tx in
            for key in Set(refunds.map { WooOrders.lockKey(store: $0.grant.store, orderID: $0.grant.orderID) }).sorted() {
                try await tx.lock(key)
            }
            var notes: [String] = []
            for refund in refunds { notes += try await Seats.refund(refund, deliveryID: deliveryID, in: tx) }
            return notes
        }
    }

    static func keys(of intake: WooIntake) -> WooOrderKeys? {
        if case .order(let order) = intake.payload { return WooOrderKeys(store: intake.rules.store.id, order: order) }
        return nil
    }
}

/// What the store knows about WooCommerce orders, read and written inside intake's transaction. Two deliveries of
/// one order racing each other on two instances take the order's lock (`lockKey`) first, so the second decides
/// against what the first committed, as SQLite's one writer would have it.
enum WooOrders {
    /// The lock every transaction deciding about one store order takes first; the order's row may not exist yet.
    static func lockKey(store: String, orderID: Int) -> String { "woo:\(store):\(orderID)" }

    struct Decided {
        let decision: WooDecision
        /// Dedupe keys looked up in this transaction and found on no job.
        let absentKeys: Set<String>
    }

    /// The order's memory (the newest timestamp accepted, and every dedupe key of its jobs, live or pruned), and
    /// the dedupe keys it looked for and found no job for.
    static func recall(_ keys: WooOrderKeys, in tx: Tx) async throws -> (memory: WooOrderMemory, absentKeys: Set<String>) {
        let (prefix, end) = keyRange(keys)
        guard let row = try await tx.row("""
            SELECT (SELECT newest_modified_gmt FROM woo_orders WHERE store = \(keys.store) AND order_id = \(keys.orderID)) AS newest,
                   ARRAY(SELECT dedupe_key FROM dedupe_keys WHERE dedupe_key >= \(prefix) AND dedupe_key < \(end)) AS found
            """) else { throw StoreError.corrupt("the order's memory query returned no row") }
        return keys.memory(newestModifiedGMT: try row.value("newest", as: String?.self),
                           foundKeys: Set(try row.value("found", as: [String].self)))
    }

    /// Every dedupe key of the order's jobs is ≥ the first and < the second. Keys compare as bytes (COLLATE "C"):
    /// everything starting with "…:" sorts before "…;".
    static func keyRange(_ keys: WooOrderKeys) -> (from: String, to: String) {
        (keys.prefix, String(keys.prefix.dropLast()) + ";")
    }

    static func decide(_ intake: WooIntake, keys: WooOrderKeys?, in tx: Tx) async throws -> Decided {
        var memory = WooOrderMemory()
        var absentKeys = Set<String>()
        if let keys { (memory, absentKeys) = try await recall(keys, in: tx) }
        return decide(intake, memory: memory, absentKeys: absentKeys)
    }

    /// The intake's speculation is used as is when the memory read here is empty.
    static func decide(_ intake: WooIntake, memory: WooOrderMemory, absentKeys: Set<String>) -> Decided {
        if let speculation = intake.speculation, memory == WooOrderMemory() {
            return Decided(decision: speculation, absentKeys: absentKeys)
        }
        return Decided(decision: intake.rules.decide(intake.payload, memory: memory, deliveryID: intake.deliveryKey), absentKeys: absentKeys)
    }

    /// Adds the decision's jobs and, unless the delivery was stale, remembers the order's newest state; brings seat
    /// lines' codes in line with the seats they hold. Returns the jobs and what the seats did.
    static func apply(_ decided: Decided, of payload: WooPayload, storeID: String, deliveryID: Int64?,
                      in tx: Tx) async throws -> (jobs: [EnqueuedJob], seatNotes: [String]) {
        let decision = decided.decision
        let jobs = try await tx.insert(decision.jobs, deliveryID: deliveryID)
        if case .order(let order) = payload, decision.verdict != .stale {
            tx.send("""
                INSERT INTO woo_orders (store, order_id, newest_modified_gmt, status, updated_at, total, currency)
                VALUES (\(storeID), \(order.id), \(decision.newestModifiedGMT), \(order.status), \(tx.now), \(order.totalText), \(order.currency))
                ON CONFLICT (store, order_id) DO UPDATE SET
                    newest_modified_gmt = coalesce(excluded.newest_modified_gmt, woo_orders.newest_modified_gmt),
                    status = excluded.status, updated_at = excluded.updated_at,
                    total = coalesce(woo_orders.total, excluded.total), currency = coalesce(woo_orders.currency, excluded.currency)
                """)
        }
        // A line's sale once: when its enroll job is new, or (a line sold as codes) before its first codes are made.
        var sales: [SaleLine] = []
        for sale in decision.sales {
            if let key = sale.enrollKey {
                if decided.absentKeys.contains(key) && decision.jobs.contains(where: { $0.dedupeKey == key }) { sales.append(sale) }
            } else if try await !tx.exists("SELECT 1 FROM codes WHERE source = 'order' AND source_ref = \("\(sale.orderRef):\(sale.line)")") {
                sales.append(sale)
            }
        }
        if !sales.isEmpty {
            try await SalesRows.record(sales, json: sales.count == decision.sales.count ? decision.salesJSON : nil, in: tx)
        }
        if !decision.refunds.isEmpty { try await SalesRows.record(decision.refunds, at: tx.now, by: "woocommerce:\(storeID)", in: tx) }
        // After the order's row exists: a shortfall of seats flags it.
        var seatNotes: [String] = []
        for grant in decision.seats { seatNotes += try await Seats.apply(grant, deliveryID: deliveryID, in: tx) }
        return (jobs, seatNotes)
    }

    /// The delivery as recorded: with its decision's verdict and reason.
    static func recorded(_ delivery: NewDelivery, deciding decision: WooDecision) -> NewDelivery {
        var delivery = delivery
        delivery.verdict = decision.verdict.rawValue
        let reason = ([decision.reason].compactMap { $0 } + decision.notes).joined(separator: "; ")
        delivery.reason = reason.isEmpty ? nil : CardNumberMasking.masked(reason)
        return delivery
    }

    /// The first delivery of an order, taken as `take` would take it, in one call of `registrar_take_new_order`
    /// (one round trip: `BEGIN`, the call and `COMMIT` are sent together). Nil, with nothing written, when the
    /// store knows something of the order (the function finds its memory not empty) or the decision is one the
    /// function does not make (seats, refunds, jobs due later, lines sold without a job): `take` then decides.
    static func takeNew(_ intake: WooIntake, keys: WooOrderKeys, delivery: NewDelivery, in store: PostgresStore) async throws
        -> WooIntakeOutcome? {
        guard let decision = intake.speculation, case .order(let order) = intake.payload, decision.seats.isEmpty,
              decision.refunds.isEmpty, decision.jobs.allSatisfy({ $0.runAt == nil }),
              Set(decision.jobs.map(\.dedupeKey)).count == decision.jobs.count,
              decision.sales.allSatisfy({ sale in decision.jobs.contains { $0.dedupeKey == sale.enrollKey } }),
              SaleLine.byOrder(decision.sales).count <= 1
        else { return nil }
        let row = recorded(delivery, deciding: decision)
        let stored = row.stored
        let jobs = decision.jobs
        let sale = decision.sales.first
        let (prefix, end) = keyRange(keys)
        let maxAttempts = store.options.maxAttempts
        let storeID = intake.rules.store.id
        // A stale delivery leaves the order's row as it is (as `apply` does).
        let newerOrder = decision.verdict == .stale ? nil : order
        let call: PostgresQuery = try """
            SELECT taken_delivery, taken_jobs FROM registrar_take_new_order(
                \(lockKey(store: keys.store, orderID: keys.orderID)), \(storeID), \(Int64(order.id)), \(prefix), \(end),
                \(store.clock?.now())::timestamptz,
                \(row.source), \(row.channel), \(JSONText.encode(strings: row.storedHeaders))::jsonb, \(Data(stored.bytes)),
                \(Int32(clamping: stored.size)), \(stored.sha256), \(row.verdict), \(Int32(clamping: row.httpStatus)), \(row.reason),
                \(Set(jobs.compactMap(\.serialKey)).sorted())::text[], \(jobs.map(\.kind.rawValue))::text[],
                \(jobs.map(\.dedupeKey))::text[], \(jobs.map { $0.serialKey ?? "" })::text[], \(jobs.map(\.payload))::text[],
                \(jobs.map { Int32(clamping: $0.maxAttempts ?? maxAttempts) })::integer[], \(jobs.map(\.source))::text[],
                \(decision.newestModifiedGMT), \(newerOrder?.status), \(newerOrder?.totalText), \(newerOrder?.currency),
                \(sale?.source.rawValue), \(sale?.orderRef), \(sale?.email), \(sale?.currency),
                \(sale == nil ? nil : decision.salesJSON ?? SaleLine.linesJSON(decision.sales)))
            """
        // The general path counts the write when the order turns out to be known.
        let taken: (Int64, [Int64])? = try await store.retrying(wrote: { $0 != nil }) {
            try await store.client.withConnection { connection in
                let pipeline = Pipeline(connection: connection, logger: store.logger)
                pipeline.send("BEGIN ISOLATION LEVEL READ COMMITTED")
                let answer = pipeline.send(call)
                try await pipeline.committing {}
                guard let first = try await answer.get().rows.first else { return nil }
                return try first.decode((Int64, [Int64]).self)
            }
        }
        guard let (deliveryID, ids) = taken else { return nil }
        guard ids.count == jobs.count else { throw StoreError.corrupt("a new order's intake returned \(ids.count) job ids for \(jobs.count) jobs") }
        // Other instances' idle workers, as `Tx.insert` wakes them.
        if !ids.isEmpty { store.wakeOthers.ring() }
        return WooIntakeOutcome(deliveryID: deliveryID, decision: decision,
                                jobs: zip(jobs, ids).map { EnqueuedJob(id: $1, dedupeKey: $0.dedupeKey, created: true, state: .queued) })
    }

    /// Records a delivery of an order fact with the verdict and reason of its decision, and applies the decision.
    static func take(_ decided: Decided, delivery: NewDelivery, of intake: WooIntake, in tx: Tx) async throws -> WooIntakeOutcome {
        let delivery = recorded(delivery, deciding: decided.decision)
        let deliveryID = try await tx.store.insertDelivery(delivery, receivedAt: tx.now, on: tx.connection)
        let (jobs, seatNotes) = try await apply(decided, of: intake.payload, storeID: intake.rules.store.id, deliveryID: deliveryID, in: tx)
        var decision = decided.decision
        let ids = jobs.map(\.id)
        if !ids.isEmpty || !seatNotes.isEmpty {
            let notes = seatNotes.isEmpty ? nil : seatNotes.joined(separator: "; ")
            tx.send("""
                UPDATE deliveries SET job_ids = \(ids),
                       reason = CASE WHEN \(notes)::text IS NULL THEN reason ELSE coalesce(reason || '; ', '') || \(notes) END
                WHERE id = \(deliveryID)
                """)
            decision.notes += seatNotes
        }
        return WooIntakeOutcome(deliveryID: deliveryID, decision: decision, jobs: jobs)
    }
}

extension PostgresStore: CatchUpLedger {
    public func beginCatchUp(store: String, holder: String, leaseUntil: Date, initialCursor: WooModifiedTime) async throws
        -> CatchUpState? {
        try await write { tx -> CatchUpState? in
            try await tx.run("INSERT INTO woo_catch_up (store, cursor) VALUES (\(store), \(initialCursor.canonical)) ON CONFLICT (store) DO NOTHING")
            guard try await tx.exists("""
                UPDATE woo_catch_up SET lease_holder = \(holder), lease_expires_at = \(leaseUntil), last_started_at = \(tx.now)
                WHERE store = \(store) AND (lease_holder IS NULL OR lease_holder = \(holder) OR lease_expires_at <= \(tx.now))
                RETURNING 1
                """) else { return nil }
            return try await tx.row("SELECT * FROM woo_catch_up WHERE store = \(store)").map(Self.catchUpState)
        }
    }

    public func recordCatchUpPage(store: String, holder: String, orders: [CatchUpOrder], cursor: WooModifiedTime?,
                                  leaseUntil: Date) async throws -> [CatchUpOrderOutcome] {
        let outcomes = try await write { tx -> [CatchUpOrderOutcome] in
            // Expired but not yet taken by anyone: still this holder's to use.
            // Locked: an instance taking over an expired lease waits for this page, or this page finds it taken.
            guard try await tx.value("SELECT lease_holder FROM woo_catch_up WHERE store = \(store) FOR UPDATE", as: String?.self) == .some(holder) else {
                throw CatchUpLeaseLost(store: store)
            }
            var outcomes: [CatchUpOrderOutcome] = []
            var recovered = 0
            for order in orders {
                guard let intake = order.intake else {
                    let id = try await tx.store.insertDelivery(order.delivery, receivedAt: tx.now, on: tx.connection)
                    outcomes.append(CatchUpOrderOutcome(orderID: nil, alreadySeen: false, deliveryID: id, decision: nil,
                                                        jobs: [], rejection: order.delivery.reason))
                    continue
                }
                var memory = WooOrderMemory()
                var absentKeys = Set<String>()
                if let keys = intake.keys ?? Self.keys(of: intake) {
                    // Webhook deliveries of the order may be decided on another instance right now: in turn.
                    try await tx.lock(WooOrders.lockKey(store: keys.store, orderID: keys.orderID))
                    (memory, absentKeys) = try await WooOrders.recall(keys, in: tx)
                }
                if memory.hasSeen(modifiedGMT: order.order?.dateModifiedGMT) {
                    outcomes.append(CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: true, deliveryID: nil, decision: nil, jobs: []))
                    continue
                }
                let decided = WooOrders.decide(intake, memory: memory, absentKeys: absentKeys)
                let taken = try await WooOrders.take(decided, delivery: order.delivery, of: intake, in: tx)
                let outcome = CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: false, deliveryID: taken.deliveryID,
                                                  decision: taken.decision, jobs: taken.jobs)
                if outcome.recovered { recovered += 1 }
                outcomes.append(outcome)
            }
            // Forward only: a page of a walk that started late never moves the cursor back.
            if let cursor {
                let current = try await tx.value("SELECT cursor FROM woo_catch_up WHERE store = \(store)", as: String?.self)?
                    .flatMap(WooModifiedTime.init)
                if current.map({ $0 < cursor }) ?? true {
                    try await tx.run("UPDATE woo_catch_up SET cursor = \(cursor.canonical) WHERE store = \(store)")
                }
            }
            try await tx.run("""
                UPDATE woo_catch_up SET lease_expires_at = \(leaseUntil), recovered_total = recovered_total + \(recovered)
                WHERE store = \(store) AND lease_holder = \(holder)
                """)
            return outcomes
        }
        jobsMayRun(outcomes.contains(where: \.recovered))
        return outcomes
    }

    public func previewCatchUp(_ orders: [CatchUpOrder]) async throws -> [CatchUpOrderOutcome] {
        try await snapshot { tx in
            var outcomes: [CatchUpOrderOutcome] = []
            for order in orders {
                guard let intake = order.intake else {
                    outcomes.append(CatchUpOrderOutcome(orderID: nil, alreadySeen: false, deliveryID: nil, decision: nil, jobs: [],
                                                        rejection: order.delivery.reason))
                    continue
                }
                var memory = WooOrderMemory()
                var absentKeys = Set<String>()
                if let keys = intake.keys ?? Self.keys(of: intake) { (memory, absentKeys) = try await WooOrders.recall(keys, in: tx) }
                if memory.hasSeen(modifiedGMT: order.order?.dateModifiedGMT) {
                    outcomes.append(CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: true, deliveryID: nil, decision: nil, jobs: []))
                    continue
                }
                let decision = WooOrders.decide(intake, memory: memory, absentKeys: absentKeys).decision
                var keysSeen = Set<String>()
                var jobs: [EnqueuedJob] = []
                for job in decision.jobs {
                    var exists = !keysSeen.insert(job.dedupeKey).inserted
                    if !exists { exists = try await tx.exists("SELECT 1 FROM dedupe_keys WHERE dedupe_key = \(job.dedupeKey)") }
                    jobs.append(EnqueuedJob(id: 0, dedupeKey: job.dedupeKey, created: !exists, state: .queued))
                }
                outcomes.append(CatchUpOrderOutcome(orderID: order.order?.id, alreadySeen: false, deliveryID: nil, decision: decision, jobs: jobs))
            }
            return outcomes
        }
    }

    public func finishCatchUp(store: String, holder: String, result: CatchUpResult) async throws {
        let webhooks = result.webhooks.flatMap { try? JSONText.encode($0) }
        try await write { tx in
            try await tx.run("""
                UPDATE woo_catch_up SET
                    lease_holder = NULL, lease_expires_at = NULL, last_finished_at = \(tx.now),
                    last_succeeded_at = CASE WHEN \(result.succeeded) THEN \(tx.now) ELSE last_succeeded_at END,
                    last_result = CASE WHEN \(result.succeeded) THEN 'succeeded' ELSE 'failed' END, last_error = \(result.error),
                    last_listed = \(result.listed), last_recovered = \(result.recovered), ignores_modified_after = \(result.ignoresModifiedAfter),
                    webhooks = coalesce(\(webhooks), webhooks),
                    webhooks_checked_at = CASE WHEN \(webhooks)::text IS NULL THEN webhooks_checked_at ELSE \(tx.now) END
                WHERE store = \(store) AND lease_holder = \(holder)
                """)
        }
    }

    public func catchUpStates() async throws -> [CatchUpState] {
        try await snapshot { tx in try await tx.rows("SELECT * FROM woo_catch_up ORDER BY store").map(Self.catchUpState) }
    }

    public func lastWebhook(store: String) async throws -> Date? {
        try await snapshot { tx in
            try await tx.value("""
                SELECT received_at FROM deliveries WHERE source = 'woocommerce' AND channel = \(store) AND verdict <> 'rejected'
                ORDER BY id DESC LIMIT 1
                """, as: Date.self)
        }
    }

    static func catchUpState(_ r: PostgresRandomAccessRow) throws -> CatchUpState {
        let webhooks: String? = try r.value("webhooks")
        return CatchUpState(
            store: try r.value("store"), cursor: try r.value("cursor", as: String?.self).flatMap(WooModifiedTime.init),
            leaseHolder: try r.value("lease_holder"), leaseExpiresAt: try r.value("lease_expires_at"),
            lastStartedAt: try r.value("last_started_at"), lastFinishedAt: try r.value("last_finished_at"),
            lastSucceededAt: try r.value("last_succeeded_at"), lastResult: try r.value("last_result"),
            lastError: try r.value("last_error"), lastListed: try r.value("last_listed"), lastRecovered: try r.value("last_recovered"),
            recoveredTotal: try r.value("recovered_total"), ignoresModifiedAfter: try r.value("ignores_modified_after"),
            webhooks: webhooks.flatMap { try? JSONText.decode(WooWebhookHealth.self, from: $0) },
            webhooksCheckedAt: try r.value("webhooks_checked_at"))
    }
}
