import Crypto
import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// Signs a body the way WooCommerce does, written here independently of Registrar's own verifier.
func wooSignature(_ body: [UInt8], secret: String) -> String {
    Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
}

let mainSecret = "wc-main-secret"
let demoCourse = "course-v1:edX+DemoX+Demo_Course"
let course2026 = "course-v1:edX+DemoX+2026"

/// A sandbox seeded from the fixtures, and `registrar serve` configured for two stores against it.
final class WooSetup: Sendable {
    let dir: TemporaryDirectory
    let sandbox: RunningSandbox
    let serve: ServeProcess
    let http = CurlHTTPClient()
    let databasePath: String

    /// `extraYAML`: more top-level configuration keys.
    init(mainHasRESTKeys: Bool = true, extraYAML: String = "") async throws {
        dir = try TemporaryDirectory()
        sandbox = try await startSandbox()
        databasePath = dir.path + "/registrar.sqlite"
        let keys = mainHasRESTKeys
            // Catch-up (CatchUpEndToEndTests) is kept out of these tests' job counts.
            ? "url: \(sandbox.baseURL), consumer_key: ck_sandbox, consumer_secret: cs_sandbox, catch_up: {interval_seconds: 0}"
            : "url: \(sandbox.baseURL)"
        let yaml = """
            database: \(databasePath)
            server: {host: 127.0.0.1, port: 0}
            openedx:
              lms_url: \(sandbox.baseURL)
              studio_url: \(sandbox.baseURL)
              client_secret: sandbox-secret
            woocommerce:
              stores:
                main: {webhook_secret: \(mainSecret), \(keys)}
                second: {webhook_secret: wc-second-secret}
            catalog:
              - {store: main, product_id: 93, course_id: "\(course2026)", mode: audit}
            jobs: {backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1}
            logging: {level: debug}
            \(extraYAML)
            """
        let configPath = dir.path + "/registrar.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        serve = try ServeProcess(configPath: configPath, workingDirectory: dir.path)
    }

    func shutdown() async {
        #expect(serve.stop() == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))")
        http.shutdown()
        await sandbox.stop()
    }

    /// POSTs a fixture as WooCommerce would.
    func deliver(_ body: [UInt8], topic: String = "order.updated", store: String = "main", secret: String? = mainSecret,
                 signature: String? = nil) async throws -> (status: Int, json: JSONValue) {
        var headers: HTTPHeaders = [
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
            "X-WC-Webhook-Source": "https://shop.example.com/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": String(topic.split(separator: ".").first ?? ""),
            "X-WC-Webhook-Event": String(topic.split(separator: ".").last ?? ""),
            "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": "a1b2c3",
        ]
        if let signature { headers.set(name: "X-WC-Webhook-Signature", value: signature) }
        else if let secret { headers.set(name: "X-WC-Webhook-Signature", value: wooSignature(body, secret: secret)) }
        let response = try await http.execute(HTTPRequest(method: "POST", url: "\(serve.baseURL)/webhooks/woocommerce/\(store)",
                                                          headers: headers, body: body))
        return (response.status, JSONValue.parse(response.bodyText) ?? .null)
    }

    func store() throws -> any RegistrarStorage {
        try openStore(databasePath)
    }

    /// Waits until no job is queued or running (the workers have done everything they can).
    func settle(timeout: Duration = .seconds(30)) async throws {
        try await settleJobs(try store(), serve: serve, timeout: timeout)
    }

    func ledger() async -> [LedgerEntry] { await sandbox.ledger() }
}

/// Waits until no job is queued or running in `store` (serve's workers have done everything they can); records
/// an issue with the end of serve's log if they have not within `timeout`.
func settleJobs(_ store: any RegistrarStorage, serve: ServeProcess, timeout: Duration = .seconds(30)) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let stats = try await store.stats()
        if stats.total(state: .queued) == 0 && stats.total(state: .running) == 0 { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("jobs did not settle within \(timeout):\n\(serve.log.suffix(3000))")
}

func summary(_ ledger: [LedgerEntry]) -> [String] {
    ledger.map { "\($0.action.rawValue) \($0.user ?? $0.email ?? "-") \($0.courseID)" }
}

@Suite(.serialized) struct WooCommerceEndToEndTests {
    @Test func aPaidOrderEnrollsEveryCourseLineOnce() async throws {
        let setup = try await WooSetup()
        let processing = try fixture("woocommerce/order-727-processing.json")
        let first = try await setup.deliver(processing)
        #expect(first.status == 200 && first.json["status"]?.stringValue == "accepted")
        #expect(first.json["jobs"]?.arrayValue?.count == 2)
        // The same delivery again, and the order updated to completed: no new job, no second enrollment.
        let again = try await setup.deliver(processing)
        #expect(again.status == 200 && again.json["jobs"] == first.json["jobs"])
        let completed = try await setup.deliver(try fixture("woocommerce/order-727-completed.json"))
        #expect(completed.status == 200 && completed.json["jobs"] == first.json["jobs"])
        try await setup.settle()
        let ledger = await setup.ledger()
        #expect(summary(ledger).sorted() == ["enroll zoe \(course2026)", "enroll zoe \(demoCourse)"])
        #expect(ledger.first { $0.courseID == demoCourse }?.mode == "verified")
        #expect(ledger.first { $0.courseID == course2026 }?.mode == "audit")
        #expect(ledger.allSatisfy { $0.order == "727" })
        let store = try setup.store()
        #expect(try await store.jobs(JobFilter(kind: .enroll)).count == 2)
        #expect(try await store.deliveries(DeliveryFilter()).count == 3)
        await setup.shutdown()
    }

    @Test func tenUpdatesOfAPaidOrderStillMakeOneEnrollmentPerLine() async throws {
        let setup = try await WooSetup()
        let processing = try fixture("woocommerce/order-727-processing.json")
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 { group.addTask { try await setup.deliver(processing).status } }
            for try await status in group { #expect(status == 200) }
        }
        try await setup.settle()
        #expect(await setup.ledger().count == 2)
        #expect(try await setup.store().jobs(JobFilter(kind: .enroll)).count == 2)
        await setup.shutdown()
    }

    @Test func aPartialRefundOfOneLineUnenrollsOnlyThatLine() async throws {
        let setup = try await WooSetup()
        _ = try await setup.deliver(try fixture("woocommerce/order-727-processing.json"))
        try await setup.settle()
        let refund = try await setup.deliver(try fixture("woocommerce/order-727-partial-refund.json"))
        #expect(refund.status == 200 && refund.json["status"]?.stringValue == "accepted")
        try await setup.settle()
        let ledger = summary(await setup.ledger())
        #expect(ledger.filter { $0.hasPrefix("unenroll") } == ["unenroll zoe \(demoCourse)"])
        #expect(await setup.sandbox.enrollment(username: "zoe", courseID: course2026)?.isActive == true)
        #expect(await setup.sandbox.enrollment(username: "zoe", courseID: demoCourse)?.isActive == false)
        await setup.shutdown()
    }

    @Test func aFullRefundUnenrollsEveryCourseLineAfterItsEnrollmentAndAStaleDeliveryChangesNothing() async throws {
        let setup = try await WooSetup()
        // Sent back to back: the unenrolls must still come after the enrollments they undo.
        _ = try await setup.deliver(try fixture("woocommerce/order-727-processing.json"))
        let refunded = try await setup.deliver(try fixture("woocommerce/order-727-refunded.json"))
        #expect(refunded.status == 200 && refunded.json["status"]?.stringValue == "accepted")
        try await setup.settle()
        let ledger = await setup.ledger()
        for course in [demoCourse, course2026] {
            #expect(ledger.filter { $0.courseID == course }.map(\.action) == [.enroll, .unenroll], "order of changes for \(course)")
        }
        let stale = try await setup.deliver(try fixture("woocommerce/order-727-processing-stale.json"))
        #expect(stale.status == 200 && stale.json["verdict"]?.stringValue == "stale")
        let late = try await setup.deliver(try fixture("woocommerce/order-727-processing.json"))
        #expect(late.status == 200 && late.json["verdict"]?.stringValue == "stale")
        try await setup.settle()
        #expect(await setup.ledger().count == 4, "a delivery older than the refund re-enrolled someone")
        let deliveries = try await setup.store().deliveries(DeliveryFilter(verdict: "stale"))
        #expect(deliveries.count == 2 && deliveries.allSatisfy(\.jobIDs.isEmpty))
        await setup.shutdown()
    }

    @Test func badSignaturesAreRefusedAndCreateNoJob() async throws {
        let setup = try await WooSetup()
        let body = try fixture("woocommerce/order-727-processing.json")
        let wrongSecret = try await setup.deliver(body, secret: "not-the-secret")
        #expect(wrongSecret.status == 401 && wrongSecret.json["error"]?.stringValue == "bad_signature")
        let missing = try await setup.deliver(body, secret: nil)
        #expect(missing.status == 401 && missing.json["error"]?.stringValue == "missing_signature")
        var tampered = body
        tampered[tampered.count / 2] ^= 0x01
        let changed = try await setup.deliver(tampered, signature: wooSignature(body, secret: mainSecret))
        #expect(changed.status == 401)
        // Each store has its own secret: main's signature is no good at the second store's path.
        let otherStore = try await setup.deliver(body, store: "second")
        #expect(otherStore.status == 401)
        let store = try setup.store()
        #expect(try await store.jobs(JobFilter()).isEmpty)
        let rejected = try await store.deliveries(DeliveryFilter(verdict: "rejected"))
        #expect(rejected.count == 4 && rejected.allSatisfy { $0.httpStatus == 401 })
        await setup.shutdown()
    }

    @Test func pingUnknownStoreOversizeAndMalformedBodiesGetTheirAnswers() async throws {
        let setup = try await WooSetup()
        // The ping: form body, no signature, no X-WC headers.
        let ping = try await setup.http.execute(HTTPRequest(
            method: "POST", url: "\(setup.serve.baseURL)/webhooks/woocommerce/main",
            headers: ["Content-Type": "application/x-www-form-urlencoded"], body: try fixture("woocommerce/ping.txt")))
        #expect(ping.status == 200)
        let unknown = try await setup.deliver(try fixture("woocommerce/order-727-processing.json"), store: "nope")
        #expect(unknown.status == 404 && unknown.json["error"]?.stringValue == "unknown_store")
        let huge = [UInt8](repeating: UInt8(ascii: " "), count: 1_100_000)
        let oversize = try await setup.deliver(huge)
        #expect(oversize.status == 413)
        let malformed = try await setup.deliver(Array(#"{"id": 727, "status": "processing", "line_items": [{"name": "x"}]"#.utf8))
        #expect(malformed.status == 400 && malformed.json["error"]?.stringValue == "malformed_payload")
        let draft = try await setup.deliver(try fixture("woocommerce/order-800-checkout-draft.json"))
        #expect(draft.status == 200 && draft.json["status"]?.stringValue == "ignored")
        let store = try setup.store()
        #expect(try await store.jobs(JobFilter()).isEmpty)
        let verdicts = try await store.deliveries(DeliveryFilter()).map { "\($0.verdict) \($0.httpStatus)" }
        #expect(verdicts.sorted() == ["ignored 200", "ping 200", "rejected 400", "rejected 404", "rejected 413"])
        await setup.shutdown()
    }

    @Test func aRefundWithoutRESTKeysFailsNamingThemAndIsReplayableOnceSet() async throws {
        let setup = try await WooSetup(mainHasRESTKeys: false)
        _ = try await setup.deliver(try fixture("woocommerce/order-727-processing.json"))
        _ = try await setup.deliver(try fixture("woocommerce/order-727-partial-refund.json"))
        try await setup.settle()
        let store = try setup.store()
        let failed = try #require(try await store.jobs(JobFilter(state: .failed, kind: .woocommerceRefund)).first)
        #expect(failed.lastError?.contains("woocommerce.stores.main.consumer_key") == true)
        #expect(failed.lastError?.contains("woocommerce.stores.main.consumer_secret") == true)
        #expect(setup.serve.stop() == 0)

        // The operator sets the keys (through the environment here), restarts, and replays.
        let restarted = try ServeProcess(configPath: setup.dir.path + "/registrar.yaml", workingDirectory: setup.dir.path,
                                         environment: ["REGISTRAR_WOOCOMMERCE_STORES_MAIN_CONSUMER_KEY": "ck_sandbox",
                                                       "REGISTRAR_WOOCOMMERCE_STORES_MAIN_CONSUMER_SECRET": "cs_sandbox"])
        let replay = Process()
        replay.executableURL = URL(fileURLWithPath: registrarBinary())
        replay.arguments = ["jobs", "replay", "\(failed.id)", "--config", setup.dir.path + "/registrar.yaml"]
        try replay.run()
        replay.waitUntilExit()
        #expect(replay.terminationStatus == 0)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, !(await setup.sandbox.ledger().contains { $0.action == .unenroll }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(summary(await setup.sandbox.ledger()).filter { $0.hasPrefix("unenroll") } == ["unenroll zoe \(demoCourse)"],
                "\(restarted.log.suffix(4000))")
        #expect(restarted.stop() == 0)
        setup.http.shutdown()
        await setup.sandbox.stop()
    }
}
