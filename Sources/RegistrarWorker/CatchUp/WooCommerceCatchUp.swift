import Foundation
import Logging
import RegistrarCore
import RegistrarStore
import WooCommerceClient

/// One walk of a store's orders list: each page is listed, each order in it decided exactly as a webhook
/// delivery of it would be and recorded with `source: catch-up`, and the cursor moved only past what is
/// committed (`WooCatchUpWalk` says how far). Then the store's webhooks are checked. The periodic job and
/// `registrar woocommerce catch-up` both run this.
public struct WooCommerceCatchUp: Sendable {
    /// What a walk did.
    public struct Report: Sendable {
        public var store: String
        /// `modified_after` of the first request.
        public var start: WooModifiedTime
        public var cursorBefore: WooModifiedTime?
        /// The cursor after the walk (as before when it did not move).
        public var cursorAfter: WooModifiedTime?
        public var requests = 0
        /// Orders the store returned (each once, however many pages it was on).
        public var listed = 0
        /// Orders modified after the start whose state intake had not taken yet: decided and recorded.
        public var decided = 0
        /// Orders catch-up created jobs for: what no webhook had delivered.
        public var recovered = 0
        public var jobsCreated = 0
        public var ignoresModifiedAfter = false
        public var truncated = false
        /// Nil when the webhooks could not be read (`webhooksError` says why).
        public var webhooks: WooWebhookHealth?
        public var webhooksError: String?
        /// Every decided order's outcome, in listing order (kept for `--dry-run` and the CLI's table).
        public var outcomes: [CatchUpOrderOutcome] = []
    }

    /// Why a walk stopped before the end.
    public enum Failure: Error, Sendable {
        /// Another walk of the store holds its lease.
        case busy(store: String)
        /// `url`, `consumer_key` or `consumer_secret` is missing.
        case notConfigured(String)
        /// The store did not answer as it should: down, keys refused, 5xx, a page that is not JSON.
        case store(message: String, status: Int?, retryAfter: Duration?, report: Report)
        /// The database refused a write.
        case database(message: String, report: Report?)

        public var message: String {
            switch self {
            case .busy(let store): "another catch-up of store \"\(store)\" is running"
            case .notConfigured(let message): message
            case .store(let message, _, _, _), .database(let message, _): message
            }
        }
    }

    public struct Options: Sendable {
        /// How long a walk may go without committing a page before another may take the store over.
        public var lease: Duration = .seconds(300)
        /// Keep every decided order's outcome in the report (the CLI prints them; the job does not need them).
        public var keepOutcomes = false

        var leaseSeconds: TimeInterval {
            Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        }

        public init(lease: Duration = .seconds(300), keepOutcomes: Bool = false) {
            self.lease = lease
            self.keepOutcomes = keepOutcomes
        }
    }

    let store: any CatchUpLedger
    let client: WooCommerceRESTClient
    let catalog: [CatalogEntry]
    let clock: any WallClock
    let observer: any CatchUpObserver
    let logger: Logger

    public init(store: any CatchUpLedger, client: WooCommerceRESTClient, catalog: [CatalogEntry],
                clock: any WallClock = SystemWallClock(), observer: any CatchUpObserver = NoCatchUpObserver(),
                logger: Logger) {
        self.store = store
        self.client = client
        self.catalog = catalog
        self.clock = clock
        self.observer = observer
        self.logger = logger
    }

    /// Walks `storeConfig`'s orders from its cursor less the overlap, or from `since`.
    /// - Parameters:
    ///   - holder: who holds the store's lease meanwhile (a worker and job, or the CLI).
    ///   - dryRun: decide against the store and write nothing: not the lease, not the cursor, no delivery.
    public func run(_ storeConfig: StoreConfig, holder: String, since: WooModifiedTime? = nil, dryRun: Bool = false,
                    options: Options = Options()) async -> Result<Report, Failure> {
        let began = ContinuousClock.now
        let result = await walk(storeConfig, holder: holder, since: since, dryRun: dryRun, options: options)
        guard !dryRun else { return result }
        let storeID = storeConfig.id
        switch result {
        case .success(let report):
            observer.catchUpFinished(store: storeID, report: report, succeeded: true, duration: ContinuousClock.now - began)
            logger.info("catch-up finished", metadata: [
                "store": "\(storeID)", "listed": "\(report.listed)", "decided": "\(report.decided)",
                "recovered": "\(report.recovered)", "jobs_created": "\(report.jobsCreated)",
                "cursor": "\(report.cursorAfter?.canonical ?? "none")"])
        case .failure(let failure):
            var metadata: Logger.Metadata = ["store": "\(storeID)", "error": "\(failure.message)"]
            if case .store(_, let status, _, let report) = failure {
                metadata["http_status"] = "\(status.map(String.init) ?? "none")"
                metadata["listed"] = "\(report.listed)"
                metadata["recovered"] = "\(report.recovered)"
                observer.catchUpFinished(store: storeID, report: report, succeeded: false, duration: ContinuousClock.now - began)
            }
            logger.error("catch-up failed; the cursor stays and the job retries", metadata: metadata)
        }
        return result
    }

    private func walk(_ storeConfig: StoreConfig, holder: String, since: WooModifiedTime?, dryRun: Bool,
                      options: Options) async -> Result<Report, Failure> {
        let storeID = storeConfig.id
        let credentials: WooStoreCredentials
        switch WooStoreCredentials.from(storeConfig) {
        case .success(let found): credentials = found
        case .failure(let missing): return .failure(.notConfigured("\(missing.description): catch-up reads the store's REST API"))
        }
        let now = clock.now()
        let initial = WooModifiedTime(secondsSince1970: now.timeIntervalSince1970
                                      - Double(storeConfig.catchUp.initialLookbackHours) * 3600).wholeSecond
        let state: CatchUpState?
        do {
            if dryRun {
                state = try await store.catchUpStates().first { $0.store == storeID }
            } else {
                guard let taken = try await store.beginCatchUp(store: storeID, holder: holder, leaseUntil: now + options.leaseSeconds,
                                                               initialCursor: initial) else {
                    return .failure(.busy(store: storeID))
                }
                state = taken
            }
        } catch {
            return .failure(.database(message: "could not start the catch-up of store \"\(storeID)\": \(error)", report: nil))
        }
        let cursor = state?.cursor ?? initial
        var walk = WooCatchUpWalk(cursor: cursor, overlapSeconds: storeConfig.catchUp.overlapSeconds, since: since)
        var report = Report(store: storeID, start: walk.start, cursorBefore: state?.cursor, cursorAfter: state?.cursor)
        let rules = WooIntakeRules(store: storeConfig, catalog: catalog)

        func fail(_ failure: Failure) async -> Result<Report, Failure> {
            if !dryRun {
                try? await store.finishCatchUp(store: storeID, holder: holder, result: CatchUpResult(
                    succeeded: false, error: failure.message, listed: report.listed, recovered: report.recovered,
                    ignoresModifiedAfter: report.ignoresModifiedAfter, webhooks: nil))
            }
            return .failure(failure)
        }

        var listedIDs = Set<Int>()
        var unreadable = 0
        var taken = Set<String>()
        while let request = walk.next {
            let answer = await client.orders(modifiedAfter: request.modifiedAfter, page: request.page, credentials: credentials)
            let page: WooOrderPage
            switch answer {
            case .ok(let found, _):
                page = found
            case .failed(let outcome, let status):
                return await fail(.store(message: Self.describe(outcome, status: status, store: storeID, request: request), status: status,
                                         retryAfter: Self.retryAfter(outcome), report: report))
            }
            let ranges: [Range<Int>]
            switch JSONArrayElements.ranges(page.body) {
            case .success(let found): ranges = found
            case .failure(let malformed):
                return await fail(.store(message: "store \"\(storeID)\" answered the orders list (page \(request.page) after \(request.modifiedAfter.queryText)) with a body that is not a JSON array: \(malformed.message) at byte \(malformed.offset)",
                                         status: 200, retryAfter: nil, report: report))
            }
            let orders = ranges.map { range in
                Self.listedOrder(Array(page.body[range]), store: storeID, rules: rules, request: request)
            }
            let verdict = walk.take(dates: orders.map { $0.order?.dateModifiedGMT.flatMap(WooModifiedTime.init) },
                                    total: page.total, totalPages: page.totalPages)
            report.requests = walk.requests
            for order in orders {
                if let id = order.order?.id { listedIDs.insert(id) } else { unreadable += 1 }
            }
            report.listed = listedIDs.count + unreadable
            report.ignoresModifiedAfter = walk.ignoresModifiedAfter
            // Keyset pages start again at the newest second of the page before: its orders come twice. A state
            // already taken in this walk is not sent again (nor counted twice by a dry run, which remembers nothing).
            let chosen = verdict.toDecide.map { orders[$0] }.filter { listed in
                guard let order = listed.order else { return true }
                return taken.insert("\(order.id)@\(order.dateModifiedGMT ?? "")").inserted
            }
            let outcomes: [CatchUpOrderOutcome]
            do {
                if dryRun {
                    outcomes = try await store.previewCatchUp(chosen)
                } else {
                    outcomes = try await store.recordCatchUpPage(store: storeID, holder: holder, orders: chosen,
                                                                 cursor: verdict.cursor, leaseUntil: clock.now() + options.leaseSeconds)
                    if let moved = verdict.cursor, report.cursorAfter.map({ moved > $0 }) ?? true { report.cursorAfter = moved }
                }
            } catch {
                return await fail(.database(message: "could not record page \(request.page) of store \"\(storeID)\": \(error)",
                                            report: report))
            }
            for outcome in outcomes where !outcome.alreadySeen {
                report.decided += 1
                if outcome.recovered { report.recovered += 1 }
                report.jobsCreated += outcome.jobs.filter(\.created).count
            }
            if options.keepOutcomes || dryRun { report.outcomes += outcomes.filter { !$0.alreadySeen } }
        }
        report.truncated = walk.truncated
        if walk.ignoresModifiedAfter {
            logger.warning("the store ignores modified_after (an old WooCommerce?): every order was listed and only those modified after the start decided",
                           metadata: ["store": "\(storeID)", "listed": "\(report.listed)"])
        }

        switch await client.webhooks(credentials: credentials) {
        case .ok(let listed, _):
            let health = WooWebhookHealth.assess(listed, store: storeID)
            report.webhooks = health
            if !dryRun {
                observer.webhooksChecked(store: storeID, health: health)
                for problem in health.problems { logger.error("webhook needs attention", metadata: ["store": "\(storeID)", "problem": "\(problem)"]) }
            }
        case .failed(let outcome, let status):
            report.webhooksError = "could not list the store's webhooks (HTTP \(status.map(String.init) ?? "none")): \(Self.message(outcome))"
            if !dryRun { logger.warning("webhooks not checked", metadata: ["store": "\(storeID)", "error": "\(report.webhooksError ?? "")"]) }
        }
        if !dryRun {
            do {
                try await store.finishCatchUp(store: storeID, holder: holder, result: CatchUpResult(
                    succeeded: true, listed: report.listed, recovered: report.recovered,
                    ignoresModifiedAfter: report.ignoresModifiedAfter, webhooks: report.webhooks))
            } catch {
                return .failure(.database(message: "could not record the end of the catch-up of store \"\(storeID)\": \(error)",
                                          report: report))
            }
        }
        return .success(report)
    }

    /// An element of the list as a delivery to record: its own bytes, parsed as the webhooks' `order.updated` is.
    static func listedOrder(_ bytes: [UInt8], store: String, rules: WooIntakeRules, request: WooCatchUpWalk.Request)
        -> CatchUpOrder {
        let headers = ["x-registrar-catch-up": "orders modified after \(request.modifiedAfter.queryText) GMT, page \(request.page)"]
        do {
            let payload = try WooPayload.parse(topic: "order.updated", body: bytes)
            let delivery = NewDelivery(source: "catch-up", channel: store, headers: headers, body: bytes, verdict: "",
                                       httpStatus: 200)
            return CatchUpOrder(delivery: delivery, intake: WooIntake.prepared(payload, rules: rules))
        } catch {
            let delivery = NewDelivery(source: "catch-up", channel: store, headers: headers, body: bytes,
                                       verdict: NewDelivery.rejectedVerdict, httpStatus: 200,
                                       reason: "a listed order is malformed: \(error.message)")
            return CatchUpOrder(delivery: delivery, intake: nil)
        }
    }

    static func describe(_ outcome: CallOutcome, status: Int?, store: String, request: WooCatchUpWalk.Request) -> String {
        let what = "listing the orders of store \"\(store)\" (page \(request.page) after \(request.modifiedAfter.queryText) GMT)"
        let answer = status.map { "the store answered HTTP \($0)" } ?? "no answer"
        if case .unauthorized = outcome {
            return "\(what): \(answer), refusing the consumer key (\(message(outcome))): check consumer_key and consumer_secret"
        }
        return "\(what): \(answer): \(message(outcome))"
    }

    static func message(_ outcome: CallOutcome) -> String {
        switch outcome {
        case .success: "success"
        case .unauthorized(let message), .permanent(let message), .transient(let message, _): message
        }
    }

    static func retryAfter(_ outcome: CallOutcome) -> Duration? {
        if case .transient(_, let retryAfter) = outcome { return retryAfter }
        return nil
    }
}

/// Where catch-up reports (metrics); a protocol so the worker does not depend on a metrics backend.
public protocol CatchUpObserver: Sendable {
    func catchUpFinished(store: String, report: WooCommerceCatchUp.Report, succeeded: Bool, duration: Duration)
    func webhooksChecked(store: String, health: WooWebhookHealth)
}

public struct NoCatchUpObserver: CatchUpObserver {
    public init() {}
    public func catchUpFinished(store: String, report: WooCommerceCatchUp.Report, succeeded: Bool, duration: Duration) {}
    public func webhooksChecked(store: String, health: WooWebhookHealth) {}
}
