import Foundation
import RegistrarCore
import RegistrarStore
import WooCommerceClient

/// `woocommerce.refund`: a refund's lines are only visible through the store's REST API. Fetch the refund,
/// and enqueue an unenroll for each course line whose whole quantity is now refunded. Without a refund id
/// (the `action.woocommerce_order_refunded` topic carries only the order id), fetch the order and decide it
/// afresh, exactly as if it had been delivered.
public struct WooCommerceRefundHandler: JobHandler {
    let store: RegistrarStore
    let stores: [String: StoreConfig]
    let catalog: [CatalogEntry]
    let client: WooCommerceRESTClient

    public init(store: RegistrarStore, stores: [String: StoreConfig], catalog: [CatalogEntry], client: WooCommerceRESTClient) {
        self.store = store
        self.stores = stores
        self.catalog = catalog
        self.client = client
    }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        let payload: WooRefundJobPayload
        do { payload = try job.job.decodePayload(WooRefundJobPayload.self) } catch {
            return .permanent(reason: "woocommerce.refund payload unreadable: \(error)")
        }
        guard let storeConfig = stores[payload.store] else {
            return .permanent(reason: "store \"\(payload.store)\" is no longer under woocommerce.stores")
        }
        let credentials: WooStoreCredentials
        switch WooStoreCredentials.from(storeConfig) {
        case .success(let found):
            credentials = found
        case .failure(let missing):
            let what = payload.refundID.map { "which lines refund \($0) of order \(payload.orderNumber) covers" }
                ?? "order \(payload.orderNumber)"
            return .permanent(reason: "\(missing.description): cannot look up \(what); set them and replay this job")
        }
        if let refundID = payload.refundID {
            return await applyRefund(refundID, payload, credentials: credentials, deliveryID: job.job.deliveryID)
        }
        return await syncOrder(payload, store: storeConfig, credentials: credentials, deliveryID: job.job.deliveryID,
                               jobID: job.job.id)
    }

    private func applyRefund(_ refundID: Int, _ payload: WooRefundJobPayload, credentials: WooStoreCredentials,
                             deliveryID: Int64?) async -> HandlerOutcome {
        let fetched = await client.refund(orderID: payload.orderID, refundID: refundID, credentials: credentials)
        guard case .ok(let refund, let status) = fetched else { return fetched.handlerOutcome { _ in nil } }
        let inThisRefund = Self.refundedQuantities(refund)
        if inThisRefund.isEmpty {
            return .success(detail: "refund \(refundID) is by amount only: no line refunded, nothing to unenroll", httpStatus: status)
        }
        let touched = payload.lines.filter { inThisRefund[$0.lineID] != nil }
        if touched.isEmpty {
            return .success(detail: "refund \(refundID) covers no course line", httpStatus: status)
        }
        // A line is unenrolled only when all its seats are refunded, possibly over several refunds.
        var totals = inThisRefund
        if touched.contains(where: { inThisRefund[$0.lineID]! < $0.quantity }) {
            let all = await client.refunds(orderID: payload.orderID, credentials: credentials)
            guard case .ok(let refunds, _) = all else { return all.handlerOutcome { _ in nil } }
            totals = [:]
            for other in refunds {
                for (line, quantity) in Self.refundedQuantities(other) { totals[line, default: 0] += quantity }
            }
        }
        let whole = touched.filter { (totals[$0.lineID] ?? 0) >= $0.quantity }
        let partial = touched.filter { (totals[$0.lineID] ?? 0) < $0.quantity }
        if whole.isEmpty {
            return .success(detail: "refund \(refundID) refunds part of lines \(partial.map(\.lineID)); enrollments kept",
                            httpStatus: status)
        }
        guard let email = payload.email else {
            return .permanent(reason: "order \(payload.orderNumber) has no billing email: cannot unenroll lines \(whole.map(\.lineID))")
        }
        let source = "woocommerce:\(payload.store)"
        let jobs: [NewJob]
        do {
            jobs = try whole.map { line in
                try NewJob(kind: .unenroll, dedupeKey: WooKeys.unenroll(store: payload.store, order: payload.orderID, line: line.lineID),
                           serialKey: SerialKey.enrollment(email: email, courseID: line.courseID),
                           payload: UnenrollPayload(email: email, courseID: line.courseID, orderReference: payload.orderNumber),
                           source: source)
            }
        } catch {
            return .permanent(reason: "could not build unenroll jobs: \(error)")
        }
        let storeID = payload.store
        let orderID = payload.orderID
        let maxAttempts = store.options.maxAttempts
        let now = store.clock.now()
        do {
            let enqueued = try await store.write { db -> [EnqueuedJob] in
                // Only lines that were enrolled have something to undo.
                let enrolled = try jobs.filter { job in
                    let line = whole.first { WooKeys.unenroll(store: storeID, order: orderID, line: $0.lineID) == job.dedupeKey }!
                    return try WooOrderLedger.jobExists(dedupeKey: WooKeys.enroll(store: storeID, order: orderID, line: line.lineID), in: db)
                }
                return try JobTable.insert(enrolled, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
            }
            if enqueued.contains(where: \.created) { store.jobsAdded.ring() }
            var detail = "refund \(refundID) fully refunds lines \(whole.map(\.lineID)): unenroll jobs \(enqueued.map(\.id))"
            if !partial.isEmpty { detail += "; lines \(partial.map(\.lineID)) only partly refunded, kept" }
            return .success(detail: detail, httpStatus: status)
        } catch {
            return .transient(reason: "could not enqueue unenroll jobs: \(error)")
        }
    }

    private func syncOrder(_ payload: WooRefundJobPayload, store storeConfig: StoreConfig, credentials: WooStoreCredentials,
                           deliveryID: Int64?, jobID: Int64) async -> HandlerOutcome {
        let fetched = await client.order(orderID: payload.orderID, credentials: credentials)
        guard case .ok(let body, let status) = fetched else { return fetched.handlerOutcome { _ in nil } }
        let parsed: WooPayload
        do { parsed = try WooPayload.parse(topic: "order.updated", body: body) } catch {
            return .permanent(reason: "the store's order \(payload.orderID) is malformed: \(error.message)", httpStatus: status)
        }
        let rules = WooIntakeRules(store: storeConfig, catalog: catalog)
        let maxAttempts = store.options.maxAttempts
        let now = store.clock.now()
        let storeID = storeConfig.id
        do {
            let (decision, enqueued) = try await store.write { db -> (WooDecision, [EnqueuedJob]) in
                let decided = try WooOrderLedger.decide(parsed, rules: rules, storeID: storeID, deliveryKey: "job-\(jobID)", in: db)
                let jobs = try WooOrderLedger.apply(decided, of: parsed, storeID: storeID, deliveryID: deliveryID,
                                                    maxAttempts: maxAttempts, now: now, in: db)
                return (decided.decision, jobs)
            }
            if enqueued.contains(where: \.created) { store.jobsAdded.ring() }
            return .success(detail: "order \(payload.orderNumber) fetched from the store: \(decision.verdict.rawValue); jobs \(enqueued.map(\.id))"
                            + (decision.reason.map { " (\($0))" } ?? ""), httpStatus: status)
        } catch {
            return .transient(reason: "could not enqueue jobs for order \(payload.orderID): \(error)")
        }
    }

    /// Refunded quantity per order line id, from a REST refund object (quantities there are negative).
    static func refundedQuantities(_ refund: JSONValue) -> [Int: Int] {
        var result: [Int: Int] = [:]
        for item in refund["line_items"]?.arrayValue ?? [] {
            let meta = item["meta_data"]?.arrayValue ?? []
            guard let idText = meta.first(where: { $0["key"]?.stringValue == "_refunded_item_id" })?["value"]?.stringValue,
                  let lineID = Int(idText) else { continue }
            let quantity = abs(Int(item["quantity"]?.stringValue ?? "") ?? 0)
            result[lineID, default: 0] += max(quantity, 1)
        }
        return result
    }
}
