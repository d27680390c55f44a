import Foundation
import RegistrarCore
import RegistrarStore
import WooCommerceClient

/// `woocommerce.refund`: a refund's lines are only visible through the store's REST API. Fetch the refund, ask
/// `WooRefundRule` which course lines it wholly refunds, and enqueue their unenrolls. Without a refund id (the
/// `action.woocommerce_order_refunded` topic carries only the order id), fetch the order and decide it afresh,
/// exactly as if it had been delivered.
public struct WooCommerceRefundHandler: JobHandler {
    let store: any IntakeLedger & JobQueue & RefundBook
    let stores: [String: StoreConfig]
    let catalog: [CatalogEntry]
    let client: WooCommerceRESTClient

    public init(store: any IntakeLedger & JobQueue & RefundBook, stores: [String: StoreConfig], catalog: [CatalogEntry],
                client: WooCommerceRESTClient) {
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
        do {
            // For the revenue report: which courses the money went back for.
            try await store.attributeStoreRefund(store: payload.store, orderID: payload.orderID, refundID: refundID,
                                                 amounts: WooRefundRule.refundedAmounts(refund))
        } catch {
            return .transient(reason: "could not record which lines refund \(refundID) covers: \(error)")
        }
        var outcome = WooRefundRule.decide(payload, refundID: refundID, refund: refund, everyRefund: nil)
        if outcome == .needsEveryRefund {
            let all = await client.refunds(orderID: payload.orderID, credentials: credentials)
            guard case .ok(let refunds, _) = all else { return all.handlerOutcome { _ in nil } }
            outcome = WooRefundRule.decide(payload, refundID: refundID, refund: refund, everyRefund: refunds)
        }
        switch outcome {
        case .settled(let detail):
            return .success(detail: detail, httpStatus: status)
        case .cannotUnenroll(let reason):
            return .permanent(reason: reason)
        case .needsEveryRefund:
            return .permanent(reason: "refund \(refundID): the refund rule asked for every refund twice")
        case .refundSeats(let seats, let jobs, let whole, let partial):
            do {
                // Seats first: a retry after a failed enqueue finds them applied already and changes nothing.
                let notes = try await store.refundSeats(seats, deliveryID: deliveryID)
                var detail = "refund \(refundID): " + seats.map { "\($0.refunded) of \($0.grant.seats) seats of line \($0.grant.lineID) refunded" }
                    .joined(separator: ", ")
                if !notes.isEmpty { detail += "; " + notes.joined(separator: "; ") }
                if !jobs.isEmpty {
                    let enqueued = try await store.enqueue(jobs, deliveryID: deliveryID)
                    detail += "; lines \(whole) fully refunded: unenroll jobs \(enqueued.map(\.id))"
                }
                if !partial.isEmpty { detail += "; lines \(partial) only partly refunded, kept" }
                return .success(detail: detail, httpStatus: status)
            } catch {
                return .transient(reason: "could not apply refund \(refundID): \(error)")
            }
        case .unenroll(let jobs, let whole, let partial):
            do {
                let enqueued = try await store.enqueue(jobs, deliveryID: deliveryID)
                var detail = "refund \(refundID) fully refunds lines \(whole): unenroll jobs \(enqueued.map(\.id))"
                if !partial.isEmpty { detail += "; lines \(partial) only partly refunded, kept" }
                return .success(detail: detail, httpStatus: status)
            } catch {
                return .transient(reason: "could not enqueue unenroll jobs: \(error)")
            }
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
        let intake = WooIntake(payload: parsed, rules: WooIntakeRules(store: storeConfig, catalog: catalog),
                               deliveryKey: "job-\(jobID)")
        do {
            let outcome = try await store.reconcileWooCommerce(intake, deliveryID: deliveryID)
            let decision = outcome.decision
            return .success(detail: "order \(payload.orderNumber) fetched from the store: \(decision.verdict.rawValue); jobs \(outcome.jobs.map(\.id))"
                            + (decision.reason.map { " (\($0))" } ?? ""), httpStatus: status)
        } catch {
            return .transient(reason: "could not enqueue jobs for order \(payload.orderID): \(error)")
        }
    }
}
