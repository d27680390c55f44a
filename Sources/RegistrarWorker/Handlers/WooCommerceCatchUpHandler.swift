import RegistrarCore
import RegistrarStore

/// `woocommerce.catch-up`: one walk of a store's orders (`WooCommerceCatchUp`). Every failure is transient —
/// the store down, its keys refused, a page that is not JSON, another walk holding the store — so the job
/// retries with backoff while the cursor stays, and its attempts show each error.
public struct WooCommerceCatchUpHandler: JobHandler {
    let catchUp: WooCommerceCatchUp
    let stores: [String: StoreConfig]

    public init(catchUp: WooCommerceCatchUp, stores: [String: StoreConfig]) {
        self.catchUp = catchUp
        self.stores = stores
    }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        let payload: WooCatchUpPayload
        do { payload = try job.job.decodePayload(WooCatchUpPayload.self) } catch {
            return .permanent(reason: "woocommerce.catch-up payload unreadable: \(error)")
        }
        guard let config = stores[payload.store] else {
            return .permanent(reason: "store \"\(payload.store)\" is no longer under woocommerce.stores")
        }
        let since = payload.since.flatMap(WooModifiedTime.init)
        switch await catchUp.run(config, holder: "job-\(job.job.id)", since: since) {
        case .success(let report):
            func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }
            var detail = "listed \(count(report.listed, "order")) in \(count(report.requests, "request")), \(report.decided) new to Registrar, "
                + "\(report.recovered) recovered (\(count(report.jobsCreated, "job"))); cursor \(report.cursorAfter?.canonical ?? "unset") GMT"
            if report.ignoresModifiedAfter { detail += "; the store ignores modified_after" }
            if let problems = report.webhooks?.problems, !problems.isEmpty { detail += "; " + problems.joined(separator: "; ") }
            return .success(detail: detail, httpStatus: 200)
        case .failure(let failure):
            switch failure {
            case .busy:
                return .transient(reason: failure.message, retryAfter: .seconds(30))
            case .notConfigured(let message):
                return .permanent(reason: message)
            case .store(let message, let status, let retryAfter, _):
                return .transient(reason: message, retryAfter: retryAfter, httpStatus: status)
            case .database(let message, _):
                return .transient(reason: message)
            }
        }
    }
}
