import ArgumentParser
import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarStore
import RegistrarWorker
import WooCommerceClient

struct WooCommerceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "woocommerce",
        abstract: "Catch up with a store's REST API (WooCommerce never re-sends a lost webhook) and check its webhooks.",
        subcommands: [CatchUp.self, Status.self]
    )

    struct CatchUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catch-up",
            abstract: "List a store's orders modified since the cursor (or --since) and take each as its webhook would be.",
            discussion: "Runs here, now, holding the store's catch-up lease (a running walk of the same store makes this exit 1). "
                + "Without --since the walk starts catch_up.overlap_seconds before the store's cursor.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The store id (woocommerce.stores).") var store: String
        @Option(help: "Walk from this far back: a duration (2d, 12h, 30m) or a GMT date (2026-11-20, 2026-11-20T13:00:00).")
        var since: String?
        @Flag(help: "Decide every listed order against the database and print what would be created; change nothing.")
        var dryRun = false
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let config = try global.loadConfig()
            guard let storeConfig = config.woocommerce.stores[store] else {
                let known = config.woocommerce.stores.keys.sorted()
                throw CLIError("no store \"\(store)\" under woocommerce.stores" + (known.isEmpty ? "" : " (configured: \(known.joined(separator: ", ")))"))
            }
            if case .failure(let missing) = WooStoreCredentials.from(storeConfig) {
                throw CLIError("\(missing.description): catch-up reads the store's REST API")
            }
            var start: WooModifiedTime?
            if let since {
                switch CatchUpSince.parse(since, now: WooModifiedTime(secondsSince1970: Date().timeIntervalSince1970)) {
                case .success(let instant): start = instant
                case .failure(let problem): throw CLIError(problem.message)
                }
            }
            let store = try await global.openStore(config)
            var httpConfig = HTTPClientConfiguration()
            httpConfig.totalTimeout = .seconds(config.openedx.timeoutSeconds)
            httpConfig.caBundlePath = config.openedx.caBundle
            let http = CurlHTTPClient(configuration: httpConfig)
            defer { http.shutdown() }
            // Everything the walk would log is in the report printed below (and a failure in the exit message).
            let catchUp = WooCommerceCatchUp(store: store, client: WooCommerceRESTClient(http: http), catalog: config.catalog,
                                             logger: Logger(label: "registrar") { _ in SwiftLogNoOpLogHandler() })
            let holder = "\(operatorName()):\(ProcessInfo.processInfo.processIdentifier)"
            switch await catchUp.run(storeConfig, holder: holder, since: start, dryRun: dryRun,
                                     options: .init(keepOutcomes: true)) {
            case .success(let report):
                if json { return try JSONOutput.print(CatchUpReportJSON(report, dryRun: dryRun)) }
                printReport(report)
            case .failure(let failure):
                throw CLIError(failure.message)
            }
        }

        private func printReport(_ report: WooCommerceCatchUp.Report) {
            var table = TextTable(["ORDER", "VERDICT", dryRun ? "WOULD CREATE" : "JOBS CREATED", "REASON"])
            for outcome in report.outcomes {
                let created = outcome.jobs.filter(\.created)
                let jobs = dryRun
                    ? (outcome.decision?.jobs.filter { job in created.contains { $0.dedupeKey == job.dedupeKey } }
                        .map { "\($0.kind.rawValue) \($0.serialKey ?? "")" } ?? [])
                    : created.map { "\($0.id)" }
                table.add([outcome.orderID.map(String.init) ?? "?", outcome.decision?.verdict.rawValue ?? "rejected",
                           jobs.isEmpty ? "-" : jobs.joined(separator: dryRun ? "; " : ","),
                           truncate(outcome.decision?.reason ?? outcome.rejection, 70)])
            }
            if !report.outcomes.isEmpty { print(table.render() + "\n") }
            let verb = dryRun ? "would recover" : "recovered"
            print("store \(report.store): listed \(report.listed) orders modified after \(report.start.queryText) GMT in \(report.requests) requests; "
                  + "\(report.decided) new to Registrar, \(report.recovered) \(verb) (\(report.jobsCreated) jobs)")
            if dryRun {
                print("dry run: nothing was written; the cursor stays at \(report.cursorBefore?.canonical ?? "unset (the first walk starts at the lookback)")")
            } else {
                print("cursor: \(report.cursorBefore?.canonical ?? "unset") → \(report.cursorAfter?.canonical ?? "unset") GMT")
            }
            if report.ignoresModifiedAfter {
                print("note: the store ignores modified_after (an old WooCommerce?): every order was listed, only those modified after the start decided")
            }
            if report.truncated { print("note: the walk stopped after \(WooCatchUpWalk.maxRequests) requests; run it again to go on") }
            for problem in report.webhooks?.problems ?? [] { print("webhook: \(problem)") }
            if let error = report.webhooksError { print("webhooks: \(error)") }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per store: the last webhook, the last catch-up and its result, the cursor, orders recovered, the webhooks' health.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            let states = Dictionary(try await store.catchUpStates().map { ($0.store, $0) }, uniquingKeysWith: { a, _ in a })
            var rows: [StoreStatusJSON] = []
            for (id, storeConfig) in config.woocommerce.stores.sorted(by: { $0.key < $1.key }) {
                rows.append(StoreStatusJSON(store: id, config: storeConfig, state: states[id],
                                            lastWebhook: try await store.lastWebhook(store: id)))
            }
            if json { return try JSONOutput.print(rows) }
            if rows.isEmpty { return print("no store under woocommerce.stores") }
            for row in rows {
                print("store \(row.store)")
                print("  catch-up:        \(row.catchUp)")
                print("  last webhook:    \(row.lastWebhookAt.map(Timestamp.format) ?? "none kept")")
                let last = row.lastCatchUpAt.map { "\(Timestamp.format($0)) \(row.lastResult ?? "")" } ?? "never"
                print("  last catch-up:   \(last)" + (row.lastResult == nil ? "" : " (listed \(row.lastListed), recovered \(row.lastRecovered))"))
                if let error = row.lastError { print("  last error:      \(error)") }
                if let success = row.lastSuccessAt, row.lastResult != "succeeded" { print("  last success:    \(Timestamp.format(success))") }
                print("  cursor:          \(row.cursor.map { "\($0) GMT" } ?? "unset")")
                print("  recovered:       \(row.recoveredTotal) orders by catch-up in all")
                if row.ignoresModifiedAfter { print("  note:            the store ignores modified_after; it is walked whole each time") }
                if let webhooks = row.webhooks {
                    let list = webhooks.map { "\($0.id) \($0.status) (\($0.topic))" }
                    print("  webhooks here:   \(list.isEmpty ? "none" : list.joined(separator: ", "))"
                          + (row.webhooksCheckedAt.map { ", checked \(Timestamp.format($0))" } ?? ""))
                }
                for problem in row.problems { print("  PROBLEM:         \(problem)") }
            }
        }
    }
}

/// `woocommerce status --json`: one store.
struct StoreStatusJSON: Encodable {
    var store: String
    var catchUp: String
    var enabled: Bool
    var intervalSeconds: Int
    var lastWebhookAt: Date?
    var lastCatchUpAt: Date?
    var lastResult: String?
    var lastError: String?
    var lastSuccessAt: Date?
    var lastListed: Int
    var lastRecovered: Int
    var recoveredTotal: Int
    var cursor: String?
    var ignoresModifiedAfter: Bool
    var webhooks: [WooWebhookStatus]?
    var webhooksCheckedAt: Date?
    var problems: [String]
    var running: Bool

    init(store: String, config: StoreConfig, state: CatchUpState?, lastWebhook: Date?) {
        self.store = store
        enabled = config.catchUpEnabled
        intervalSeconds = config.catchUp.intervalSeconds
        if config.catchUpEnabled {
            catchUp = "every \(config.catchUp.intervalSeconds) s, overlap \(config.catchUp.overlapSeconds) s"
        } else if config.catchUp.intervalSeconds == 0 {
            catchUp = "off (interval_seconds: 0); `registrar woocommerce catch-up` still works"
        } else {
            catchUp = "off: needs url, consumer_key and consumer_secret"
        }
        lastWebhookAt = lastWebhook
        lastCatchUpAt = state?.lastFinishedAt
        lastResult = state?.lastResult
        lastError = state?.lastResult == "failed" ? state?.lastError : nil
        lastSuccessAt = state?.lastSucceededAt
        lastListed = state?.lastListed ?? 0
        lastRecovered = state?.lastRecovered ?? 0
        recoveredTotal = state?.recoveredTotal ?? 0
        cursor = state?.cursor?.canonical
        ignoresModifiedAfter = state?.ignoresModifiedAfter ?? false
        webhooks = state?.webhooks?.webhooks
        webhooksCheckedAt = state?.webhooksCheckedAt
        problems = state?.webhooks?.problems ?? []
        running = state?.leaseHolder != nil
    }

    enum CodingKeys: String, CodingKey {
        case store, enabled, running, cursor, webhooks, problems
        case catchUp = "catch_up"
        case intervalSeconds = "interval_seconds"
        case lastWebhookAt = "last_webhook_at"
        case lastCatchUpAt = "last_catch_up_at"
        case lastResult = "last_result"
        case lastError = "last_error"
        case lastSuccessAt = "last_success_at"
        case lastListed = "last_listed"
        case lastRecovered = "last_recovered"
        case recoveredTotal = "recovered_total"
        case ignoresModifiedAfter = "ignores_modified_after"
        case webhooksCheckedAt = "webhooks_checked_at"
    }
}

/// `woocommerce catch-up --json`.
struct CatchUpReportJSON: Encodable {
    struct Order: Encodable {
        var order: Int?
        var verdict: String
        var reason: String?
        var jobs: [Job]
    }

    struct Job: Encodable {
        var id: Int64?
        var kind: String
        var dedupeKey: String
        var created: Bool

        enum CodingKeys: String, CodingKey {
            case id, kind, created
            case dedupeKey = "dedupe_key"
        }
    }

    var store: String
    var dryRun: Bool
    var start: String
    var cursorBefore: String?
    var cursorAfter: String?
    var requests: Int
    var listed: Int
    var decided: Int
    var recovered: Int
    var jobsCreated: Int
    var ignoresModifiedAfter: Bool
    var orders: [Order]
    var webhookProblems: [String]

    init(_ report: WooCommerceCatchUp.Report, dryRun: Bool) {
        store = report.store
        self.dryRun = dryRun
        start = report.start.queryText
        cursorBefore = report.cursorBefore?.canonical
        cursorAfter = dryRun ? report.cursorBefore?.canonical : report.cursorAfter?.canonical
        requests = report.requests
        listed = report.listed
        decided = report.decided
        recovered = report.recovered
        jobsCreated = report.jobsCreated
        ignoresModifiedAfter = report.ignoresModifiedAfter
        orders = report.outcomes.map { outcome in
            let kinds = Dictionary((outcome.decision?.jobs ?? []).map { ($0.dedupeKey, $0.kind.rawValue) }, uniquingKeysWith: { a, _ in a })
            return Order(order: outcome.orderID, verdict: outcome.decision?.verdict.rawValue ?? "rejected",
                         reason: outcome.decision?.reason ?? outcome.rejection,
                         jobs: outcome.jobs.map { Job(id: dryRun ? nil : $0.id, kind: kinds[$0.dedupeKey] ?? "", dedupeKey: $0.dedupeKey,
                                                      created: $0.created) })
        }
        webhookProblems = report.webhooks?.problems ?? []
    }

    enum CodingKeys: String, CodingKey {
        case store, start, requests, listed, decided, recovered, orders
        case dryRun = "dry_run"
        case cursorBefore = "cursor_before"
        case cursorAfter = "cursor_after"
        case jobsCreated = "jobs_created"
        case ignoresModifiedAfter = "ignores_modified_after"
        case webhookProblems = "webhook_problems"
    }
}
