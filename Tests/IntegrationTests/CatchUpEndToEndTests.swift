import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarStore
import Sandbox
import Synchronization
import TestSupport
import Testing

/// A sandbox store with REST keys and `registrar serve` against it, catch-up periodic or left to the operator.
final class CatchUpSetup: Sendable {
    let dir: TemporaryDirectory
    let sandbox: RunningSandbox
    let configPath: String
    let databasePath: String
    let http = CurlHTTPClient()
    private let serveBox = ServeBox()

    /// - Parameter intervalSeconds: the periodic catch-up's interval; 0 leaves catch-up to `registrar woocommerce
    ///   catch-up`.
    init(intervalSeconds: Int = 0, overlapSeconds: Int = 900) async throws {
        dir = try TemporaryDirectory()
        sandbox = try await startSandbox()
        databasePath = dir.path + "/registrar.sqlite"
        configPath = dir.path + "/registrar.yaml"
        let yaml = """
            database: \(databasePath)
            server: {host: 127.0.0.1, port: 0}
            openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret, requests_per_minute: 60000}
            woocommerce:
              stores:
                main:
                  webhook_secret: \(mainSecret)
                  url: \(sandbox.baseURL)
                  consumer_key: ck_sandbox
                  consumer_secret: cs_sandbox
                  catch_up: {interval_seconds: \(intervalSeconds), overlap_seconds: \(overlapSeconds)}
            catalog:
              - {store: main, product_id: 93, course_id: "\(course2026)", mode: audit}
            jobs: {concurrency: 16, backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1}
            logging: {level: info}
            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        try startServe()
    }

    var serve: ServeProcess { serveBox.current! }

    func startServe() throws {
        serveBox.current = try ServeProcess(configPath: configPath, workingDirectory: dir.path)
    }

    func stopServe() {
        #expect(serve.stop() == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))")
    }

    func shutdown() async {
        stopServe()
        http.shutdown()
        await sandbox.stop()
    }

    /// `registrar woocommerce …` against this database.
    func woocommerce(_ arguments: [String]) async throws -> ProcessResult {
        try await runRegistrar(["woocommerce"] + arguments + ["--config", configPath], workingDirectory: dir.path)
    }

    func store() throws -> any RegistrarStorage { try openStore(databasePath) }

    /// Learners `learner<n>@example.com` (usernames `learner<n>`) for the given numbers.
    func addLearners(_ numbers: some Sequence<Int>) async throws {
        for n in numbers { _ = try await sandbox.addUser(username: "learner\(n)", email: "learner\(n)@example.com") }
    }

    /// Waits until no job is queued or running.
    func settle(timeout: Duration = .seconds(60)) async throws {
        let store = try store()
        let settled = try await waitUntil(timeout: timeout) {
            let stats = try await store.stats()
            return stats.total(state: .queued) == 0 && stats.total(state: .running) == 0
        }
        if !settled { Issue.record("jobs did not settle within \(timeout):\n\(serve.log.suffix(3000))") }
    }

    func status() async throws -> JSONValue {
        let result = try await woocommerce(["status", "--json"])
        #expect(result.status == 0, "\(result.output)")
        return try #require(JSONValue.parse(result.output)?.arrayValue?.first)
    }
}

/// The running `serve`, replaced on restart.
private final class ServeBox: Sendable {
    private let process = Mutex<ServeProcess?>(nil)
    var current: ServeProcess? {
        get { process.withLock { $0 } }
        set { process.withLock { $0 = newValue } }
    }
}

/// A sample's value in Prometheus text (`series` with its labels as written), nil when absent.
func metricValue(_ exposition: String, _ series: String) -> Double? {
    exposition.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
}

/// A paid order as the REST API lists it, for product 93 (the 2026 run), bought by learner `n`.
func paidOrder(_ id: Int, learner n: Int, status: String = "processing", modified: String? = nil) -> SandboxJSON {
    var order: [String: SandboxJSON] = [
        "id": .int(id), "number": .string(String(id)), "status": .string(status), "currency": "USD", "total": "49.00",
        "billing": ["first_name": "Learner", "last_name": .string(String(n)), "email": .string("learner\(n)@example.com")],
        "line_items": [["id": .int(id * 10 + 1), "name": "Demo course 2026", "product_id": 93, "variation_id": 0,
                        "quantity": 1, "subtotal": "49.00", "total": "49.00", "sku": "", "price": 49, "meta_data": []]],
    ]
    if let modified { order["date_modified_gmt"] = .string(modified) }
    return .object(order)
}

/// Now, as WooCommerce writes `date_modified_gmt`, moved by `offset` seconds.
func wooNow(_ offset: TimeInterval = 0) -> String {
    String(Date().addingTimeInterval(offset).formatted(Date.ISO8601FormatStyle()).dropLast())
}

@Suite(.serialized) struct CatchUpEndToEndTests {
    @Test func ordersWithNoWebhookAtAllAreEnrolledByOneCatchUpEachOnce() async throws {
        let setup = try await CatchUpSetup()
        try await setup.addLearners(1...250)
        // Spread over the last minutes, several to a second, as a busy store's are.
        try await setup.sandbox.addWooOrders((1...250).map { paidOrder(5000 + $0, learner: $0, modified: wooNow(-Double(250 - $0) / 2)) })

        let dry = try await setup.woocommerce(["catch-up", "--store", "main", "--dry-run"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("250 would recover (250 jobs)"), "\(dry.output.suffix(600))")
        #expect(try await setup.store().jobs(JobFilter(kind: .enroll)).isEmpty)

        let first = try await setup.woocommerce(["catch-up", "--store", "main"])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("listed 250 orders"), "\(first.output.suffix(600))")
        #expect(first.output.contains("250 recovered (250 jobs)"))
        try await setup.settle()
        let ledger = await setup.sandbox.ledger()
        #expect(ledger.count == 250)
        #expect(Set(ledger.map { $0.user ?? "" }).count == 250)
        #expect(ledger.allSatisfy { $0.action.rawValue == "enroll" && $0.courseID == course2026 })

        let second = try await setup.woocommerce(["catch-up", "--store", "main", "--json"])
        #expect(second.status == 0)
        let report = try #require(JSONValue.parse(second.output))
        #expect(report["recovered"] == .number(0) && report["jobs_created"] == .number(0))
        #expect(report["decided"] == .number(0))
        try await setup.settle()
        #expect(await setup.sandbox.ledger().count == 250)
        let store = try setup.store()
        #expect(try await store.jobs(JobFilter(kind: .enroll, limit: 1000)).count == 250)
        #expect(try await store.deliveries(DeliveryFilter(source: "catch-up", limit: 1000)).count == 250)

        let status = try await setup.status()
        #expect(status["recovered_total"] == .number(250))
        #expect(status["last_result"] == .string("succeeded"))
        #expect(status["cursor"]?.stringValue != nil)
        await setup.shutdown()
    }

    @Test func webhooksForHalfAndCatchUpForAllEnrollEachLineOnce() async throws {
        let setup = try await CatchUpSetup()
        try await setup.addLearners(1...60)
        let orders = (1...60).map { paidOrder(6000 + $0, learner: $0, modified: wooNow(-Double(60 - $0))) }
        try await setup.sandbox.addWooOrders(orders)
        for order in orders.prefix(30) {
            let body = [UInt8](try order.encoded())
            let response = try await setup.http.execute(HTTPRequest(
                method: "POST", url: setup.serve.baseURL + "/webhooks/woocommerce/main",
                headers: ["Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
                          "X-WC-Webhook-Signature": wooSignature(body, secret: mainSecret)], body: body))
            #expect(response.status == 200)
        }
        let run = try await setup.woocommerce(["catch-up", "--store", "main"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("30 new to Registrar, 30 recovered"), "\(run.output.suffix(400))")
        try await setup.settle()
        let ledger = await setup.sandbox.ledger()
        #expect(ledger.count == 60)
        #expect(Set(ledger.map { $0.user ?? "" }).count == 60)
        #expect(try await setup.store().jobs(JobFilter(kind: .enroll, limit: 1000)).count == 60)
        await setup.shutdown()
    }

    @Test func ordersModifiedInTheCursorsSecondAreNotSkipped() async throws {
        let setup = try await CatchUpSetup(overlapSeconds: 1)
        try await setup.addLearners(1...5)
        let second = wooNow(-30)
        try await setup.sandbox.addWooOrders((1...3).map { paidOrder(7000 + $0, learner: $0, modified: second) })
        #expect(try await setup.woocommerce(["catch-up", "--store", "main"]).status == 0)
        #expect(try await setup.status()["cursor"] == .string(second))
        // Two more orders changed in that very second, listed only after the first walk.
        try await setup.sandbox.addWooOrders((4...5).map { paidOrder(7000 + $0, learner: $0, modified: second) })
        let again = try await setup.woocommerce(["catch-up", "--store", "main"])
        #expect(again.output.contains("2 recovered"), "\(again.output)")
        try await setup.settle()
        #expect(Set(await setup.sandbox.ledger().map { $0.user ?? "" }) == Set((1...5).map { "learner\($0)" }))
        await setup.shutdown()
    }

    @Test func anOldStoreIgnoringModifiedAfterIsWalkedSafely() async throws {
        let setup = try await CatchUpSetup()
        try await setup.addLearners(1...3)
        // Paid long ago (before the lookback), and now.
        try await setup.sandbox.addWooOrders([paidOrder(7101, learner: 1, modified: "2026-01-05T10:00:00"),
                                              paidOrder(7102, learner: 2, modified: wooNow(-60)),
                                              paidOrder(7103, learner: 3, modified: wooNow(-30))])
        await setup.sandbox.setWooStore(ignoreModifiedAfter: true)
        let run = try await setup.woocommerce(["catch-up", "--store", "main"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("2 recovered"), "\(run.output)")
        #expect(run.output.contains("ignores modified_after"))
        try await setup.settle()
        #expect(Set(await setup.sandbox.ledger().map { $0.user ?? "" }) == ["learner2", "learner3"])
        #expect(try await setup.status()["ignores_modified_after"] == .bool(true))
        await setup.shutdown()
    }

    @Test func aRefundMadeWhileRegistrarWasStoppedIsAppliedAfterRestart() async throws {
        let setup = try await CatchUpSetup(intervalSeconds: 2)
        try await setup.addLearners(1...1)
        try await setup.sandbox.addWooOrders([paidOrder(7201, learner: 1, modified: wooNow(-5))])
        // The periodic catch-up, first run at start, enrolls it.
        #expect(try await waitUntil(timeout: .seconds(30)) { await setup.sandbox.ledger().count == 1 })
        setup.stopServe()
        try await setup.sandbox.addWooOrders([paidOrder(7201, learner: 1, status: "refunded")])
        try setup.startServe()
        #expect(try await waitUntil(timeout: .seconds(30)) { await setup.sandbox.ledger().count == 2 },
                "\(setup.serve.log.suffix(2000))")
        try await setup.settle()
        #expect(summary(await setup.sandbox.ledger()) == ["enroll learner1 \(course2026)", "unenroll learner1 \(course2026)"])
        let catchUps = try await setup.store().jobs(JobFilter(kind: .woocommerceCatchUp, limit: 100))
        #expect(catchUps.count >= 2 && catchUps.allSatisfy { $0.state == .succeeded })
        await setup.shutdown()
    }

    @Test func theStoreDownDuringCatchUpIsRetriedAndNothingIsLost() async throws {
        let setup = try await CatchUpSetup()
        try await setup.addLearners(1...20)
        #expect(try await setup.woocommerce(["catch-up", "--store", "main"]).status == 0)
        let cursor = try await setup.status()["cursor"]
        try await setup.sandbox.addWooOrders((1...20).map { paidOrder(7300 + $0, learner: $0, modified: wooNow(-Double(20 - $0))) })
        await setup.sandbox.setWooStore(down: true)
        let failed = try await setup.woocommerce(["catch-up", "--store", "main"])
        #expect(failed.status != 0)
        #expect(failed.output.contains("503"), "\(failed.output)")
        #expect(!failed.output.contains("cs_sandbox") && !failed.output.contains("ck_sandbox"))
        let status = try await setup.status()
        #expect(status["cursor"] == cursor)
        #expect(status["last_result"] == .string("failed"))
        #expect(status["last_error"]?.stringValue?.contains("503") == true)

        // The job the daemon would run: it retries with backoff until the store is back.
        let store = try setup.store()
        _ = try await store.enqueue([NewJob(kind: .woocommerceCatchUp, dedupeKey: "test-catch-up", serialKey: WooKeys.catchUpSerial(store: "main"),
                                            payload: WooCatchUpPayload(store: "main").jsonText, source: "test")])
        #expect(try await waitUntil(timeout: .seconds(20)) {
            try await store.jobs(JobFilter(kind: .woocommerceCatchUp)).first?.attempts ?? 0 >= 2
        })
        let retrying = try #require(try await store.jobs(JobFilter(kind: .woocommerceCatchUp)).first)
        #expect(retrying.state == .queued || retrying.state == .running)
        #expect(retrying.lastError?.contains("503") == true)
        #expect(retrying.lastHTTPStatus == 503)
        #expect(await setup.sandbox.ledger().isEmpty)
        let failures = setup.serve.log.split(separator: "\n").filter { $0.contains("catch-up failed") }
        #expect(!failures.isEmpty && failures.allSatisfy { $0.contains("main") && $0.contains("503") })
        #expect(!setup.serve.log.contains("cs_sandbox"))

        await setup.sandbox.setWooStore(down: false)
        #expect(try await waitUntil(timeout: .seconds(30)) { await setup.sandbox.ledger().count == 20 }, "\(setup.serve.log.suffix(2000))")
        try await setup.settle()
        #expect(try await store.jobs(JobFilter(kind: .woocommerceCatchUp)).first?.state == .succeeded)
        #expect(try await setup.status()["cursor"] != cursor)
        await setup.shutdown()
    }

    @Test func aDisabledWebhookIsReportedByStatusAndTheMetric() async throws {
        let setup = try await CatchUpSetup(intervalSeconds: 1)
        try await setup.sandbox.addWooWebhook(["id": 12, "name": "Registrar", "status": "disabled",
                                                "delivery_url": .string(setup.serve.baseURL + "/webhooks/woocommerce/main")])
        try await setup.sandbox.addWooWebhook(["id": 13, "status": "active", "delivery_url": "https://crm.example.com/hook"])
        let active = #"registrar_woocommerce_webhook_active{store="main",webhook="12"}"#
        func metrics() async throws -> String {
            try await setup.http.execute(HTTPRequest(method: "GET", url: setup.serve.baseURL + "/metrics")).bodyText
        }
        let reported = try await waitUntil(timeout: .seconds(20)) {
            let body = try await metrics()
            return metricValue(body, active) == 0 && metricValue(body, #"registrar_woocommerce_webhooks{store="main"}"#) == 1
        }
        #expect(reported, "\(setup.serve.log.suffix(2000))")
        let status = try await setup.status()
        #expect(status["webhooks"]?.arrayValue?.map { $0["id"] } == [.number(12)])
        #expect(status["problems"]?.arrayValue?.first?.stringValue?.contains("webhook 12 \"Registrar\" (order.updated) of store \"main\" is disabled") == true)
        let text = try await setup.woocommerce(["status"])
        #expect(text.output.contains("PROBLEM:") && text.output.contains("re-enable it"), "\(text.output)")
        #expect(setup.serve.log.contains("webhook needs attention"))

        // Re-enabled: the next catch-up says so.
        try await setup.sandbox.addWooWebhook(["id": 12, "name": "Registrar", "status": "active",
                                                "delivery_url": .string(setup.serve.baseURL + "/webhooks/woocommerce/main")])
        // The webhook's gauge is set while that catch-up runs, its count when it has finished: both are waited for.
        let succeeded = #"registrar_woocommerce_catch_ups_total{store="main",result="succeeded"}"#
        #expect(try await waitUntil(timeout: .seconds(20)) {
            let body = try await metrics()
            return metricValue(body, active) == 1 && metricValue(body, succeeded) ?? 0 >= 2
        })
        let body = try await metrics()
        #expect((metricValue(body, #"registrar_woocommerce_catch_up_last_success_timestamp_seconds{store="main"}"#) ?? 0) > 1_700_000_000)
        #expect(try await setup.status()["problems"]?.arrayValue?.isEmpty == true)
        await setup.shutdown()
    }

    @Test func operatorsGetClearRefusals() async throws {
        let setup = try await CatchUpSetup()
        let unknown = try await setup.woocommerce(["catch-up", "--store", "nope"])
        #expect(unknown.status != 0 && unknown.output.contains("no store \"nope\"") && unknown.output.contains("main"))
        let since = try await setup.woocommerce(["catch-up", "--store", "main", "--since", "last week"])
        #expect(since.status != 0 && since.output.contains("neither a duration"))
        await setup.shutdown()
    }
}
