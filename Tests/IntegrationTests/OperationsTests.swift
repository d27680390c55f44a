import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// Runs `registrar` to completion and returns its exit status and everything it printed.
func runToEnd(_ arguments: [String], cwd: String? = nil) async throws -> (status: Int32, output: String) {
    let result = try await runRegistrar(arguments, workingDirectory: cwd)
    return (result.status, result.output)
}

func operationsConfig(_ dir: TemporaryDirectory, sandbox: RunningSandbox, extra: String = "") throws -> String {
    let path = dir.path + "/registrar.yaml"
    try """
        database: \(dir.path)/registrar.sqlite
        server: {host: 127.0.0.1, port: 0}
        openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret}
        woocommerce:
          stores:
            main: {webhook_secret: \(mainSecret), url: \(sandbox.baseURL), consumer_key: ck_sandbox, consumer_secret: cs_sandbox, catch_up: {interval_seconds: 0}}
        catalog:
          - {store: main, product_id: 93, course_id: "\(course2026)", mode: audit}
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func startSandbox(latency: Duration = .zero) async throws -> RunningSandbox {
    var configuration = SandboxConfiguration()
    configuration.port = 0
    configuration.latency = latency
    configuration.logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
    configuration.seed = try SandboxSeed.load(path: fixturePath("woocommerce/sandbox-seed.json"))
    return try await Sandbox.start(configuration)
}

func post(_ http: CurlHTTPClient, _ url: String, fixture name: String) async throws -> Int {
    let body = try fixture(name)
    return try await http.execute(HTTPRequest(method: "POST", url: url, headers: [
        "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Signature": wooSignature(body, secret: mainSecret),
    ], body: body)).status
}

@Suite(.serialized) struct OperationsTests {
    @Test func theDemoExitsZeroAndShowsEveryStep() async throws {
        let result = try await runToEnd(["demo", "--fixtures", fixturePath("")])
        #expect(result.status == 0, "\(result.output)")
        for line in ["order 727 paid", "the same delivery again", "refund 731", "at the listed 99.00 USD, coupon WELCOME10 (10%): 89.10 to pay",
                     "ACCEPT for DEMO-1 (89.10 USD)", "246.00 USD gross, 9.90 discounts, 0.00 refunded, 236.10 net",
                     "woocommerce.refund", "unenroll", "enroll             sam", "Catch-up: order 740", "woocommerce.catch-up",
                     "enroll             lee", "Learner: /redeem with one of the 2 codes", "enroll             kim", "two codes", "Mail: the 2 codes", "delivered",
                     "3 paid single seats + 2 codes = 5 seats sold", "Console: a viewer signs in at /console and opens the failures inbox",
                     "no failed jobs", "+ 0 unexplained", "49.00 EUR gross, 0.00 discounts, 49.00 refunded, 0.00 net"] {
            #expect(result.output.contains(line), "demo output lacks \"\(line)\"")
        }
    }

    @Test func theDemoRunsOnPostgreSQLInADatabaseItDropsAfterwards() async throws {
        guard let text = ProcessInfo.processInfo.environment["REGISTRAR_TEST_POSTGRES"] else {
            throw PostgresURL.Invalid("REGISTRAR_TEST_POSTGRES is not set: run the tests as `scripts/with-postgres swift test`")
        }
        let result = try await runToEnd(["demo", "--fixtures", fixturePath(""), "--database", text])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("jobs succeeded: the paid lines were enrolled once"), "\(result.output)")
        // "database  PostgreSQL 127.0.0.1:PORT/registrar_demo_xxxxxxxx, schema N (registrar migrate)"
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("database") && $0.contains("PostgreSQL") })
        let name = try #require(line.split(separator: "/").last?.split(separator: ",").first.map(String.init))
        #expect(name.hasPrefix("registrar_demo_") && line.contains("schema \(PostgresStore.schemaVersion)"), "\(line)")
        // Dropped: a database of that name can be made again.
        let server = try PostgresURL.parse(text)
        _ = try await PostgresAdmin.createDatabase(name, on: server)
        try await PostgresAdmin.dropDatabase(name, on: server)
    }

    @Test func aDemoThatFailsMidwayOnPostgreSQLDropsItsDatabaseToo() async throws {
        guard let text = ProcessInfo.processInfo.environment["REGISTRAR_TEST_POSTGRES"] else {
            throw PostgresURL.Invalid("REGISTRAR_TEST_POSTGRES is not set: run the tests as `scripts/with-postgres swift test`")
        }
        // The sandbox's seed but no webhook bodies: the demo starts, then fails at its first delivery.
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/woocommerce", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixturePath("woocommerce/sandbox-seed.json"), toPath: dir.path + "/woocommerce/sandbox-seed.json")
        let result = try await runToEnd(["demo", "--fixtures", dir.path, "--database", text])
        #expect(result.status != 0, "\(result.output)")
        #expect(result.output.contains("order-727-processing.json"), "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("database") && $0.contains("PostgreSQL") })
        let name = try #require(line.split(separator: "/").last?.split(separator: ",").first.map(String.init))
        #expect(name.hasPrefix("registrar_demo_"), "\(line)")
        // Dropped: a database of that name can be made again.
        let server = try PostgresURL.parse(text)
        _ = try await PostgresAdmin.createDatabase(name, on: server)
        try await PostgresAdmin.dropDatabase(name, on: server)
    }

    @Test func operatorCommandsEnqueueByHandAndWaitForTheOutcome() async throws {
        let dir = try TemporaryDirectory()
        let sandbox = try await startSandbox()
        let config = try operationsConfig(dir, sandbox: sandbox)
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let enroll = try await runToEnd(["enroll", "--email", "Zoe.Muller@example.com", "--course", demoCourse, "--mode", "verified",
                                   "--wait", "--config", config])
        #expect(enroll.status == 0 && enroll.output.contains("succeeded: enrolled zoe"), "\(enroll.output)")
        let unenroll = try await runToEnd(["unenroll", "--email", "zoe.muller@example.com", "--course", demoCourse, "--wait", "--config", config])
        #expect(unenroll.status == 0, "\(unenroll.output)")
        let rerun = try await runToEnd(["courses", "rerun", demoCourse, "--run", "2030T1", "--start", "2030-01-01T00:00:00Z",
                                  "--end", "2030-06-01T00:00:00Z", "--pacing", "self_paced", "--wait", "--config", config])
        #expect(rerun.status == 0 && rerun.output.contains("course-v1:edX+DemoX+2030T1"), "\(rerun.output)")
        let failing = try await runToEnd(["enroll", "--email", "zoe.muller@example.com", "--course", "course-v1:edX+Nope+1", "--wait",
                                    "--config", config])
        #expect(failing.status == 1 && failing.output.contains("No course 'course-v1:edX+Nope+1'"), "\(failing.output)")
        let usage = try await runToEnd(["enroll", "--email", "not-an-email", "--course", demoCourse, "--config", config])
        #expect(usage.status == 64)
        #expect(summary(await sandbox.ledger()) == ["enroll zoe \(demoCourse)", "unenroll zoe \(demoCourse)",
                                                    "rerun - course-v1:edX+DemoX+2030T1"])
        #expect(serve.stop() == 0)
        await sandbox.stop()
    }

    @Test func readinessFailsWhenTheDatabaseStopsTakingWrites() async throws {
        let dir = try TemporaryDirectory()
        let sandbox = try await startSandbox()
        let config = try operationsConfig(dir, sandbox: sandbox)
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let http = CurlHTTPClient()
        #expect(try await http.execute(HTTPRequest(url: serve.baseURL + "/readyz")).status == 200)
        // Root ignores file modes, so make the files immutable instead: every write to them now fails.
        let files = ["registrar.sqlite", "registrar.sqlite-wal"].map { dir.path + "/" + $0 }
        let chattr = Process()
        chattr.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        chattr.arguments = ["+i"] + files
        try chattr.run()
        chattr.waitUntilExit()
        try #require(chattr.terminationStatus == 0, "chattr is needed to make the database unwritable")
        defer {
            let undo = Process()
            undo.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            undo.arguments = ["-i"] + files
            try? undo.run()
            undo.waitUntilExit()
        }
        let ready = try await http.execute(HTTPRequest(url: serve.baseURL + "/readyz"))
        #expect(ready.status == 503 && ready.bodyText.contains("not writable"), "\(ready.bodyText)")
        #expect(try await http.execute(HTTPRequest(url: serve.baseURL + "/healthz")).status == 200)
        // A delivery that cannot be committed is not acknowledged.
        #expect(try await post(http, serve.baseURL + "/webhooks/woocommerce/main", fixture: "woocommerce/order-727-processing.json") == 503)
        serve.signal(SIGKILL)
        serve.process.waitUntilExit()
        http.shutdown()
        await sandbox.stop()
    }

    @Test func sigtermLetsARunningAttemptFinish() async throws {
        let dir = try TemporaryDirectory()
        let sandbox = try await startSandbox(latency: .milliseconds(1500))
        let config = try operationsConfig(dir, sandbox: sandbox, extra: "jobs: {shutdown_grace_seconds: 30}")
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let http = CurlHTTPClient()
        #expect(try await post(http, serve.baseURL + "/webhooks/woocommerce/main", fixture: "woocommerce/order-727-processing.json") == 200)
        let store = try openStore(dir.path + "/registrar.sqlite")
        while try await store.stats().total(state: .running) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(serve.stop() == 0)
        // Both attempts were allowed to finish: nothing is left running or queued, and both are in the LMS.
        let jobs = try await store.jobs(JobFilter())
        #expect(jobs.allSatisfy { $0.state == .succeeded }, "\(jobs.map(\.state))")
        #expect(await sandbox.ledger().count == 2)
        http.shutdown()
        await sandbox.stop()
    }

    @Test func attemptsCutShortAtShutdownAreReleasedAndARestartCompletesThemExactlyOnce() async throws {
        let dir = try TemporaryDirectory()
        // An answer 20 s away: a shutdown that waited for it instead of releasing it cannot pass for a slow one.
        let sandbox = try await startSandbox(latency: .seconds(20))
        let config = try operationsConfig(dir, sandbox: sandbox, extra: "jobs: {shutdown_grace_seconds: 0.2}")
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let http = CurlHTTPClient()
        #expect(try await post(http, serve.baseURL + "/webhooks/woocommerce/main", fixture: "woocommerce/order-727-processing.json") == 200)
        let store = try openStore(dir.path + "/registrar.sqlite")
        while try await store.stats().total(state: .running) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let started = ContinuousClock.now
        #expect(serve.stop() == 0)
        #expect(ContinuousClock.now - started < .seconds(12), "shutdown waited for the slow attempt instead of releasing it")
        let released = try await store.jobs(JobFilter())
        #expect(released.allSatisfy { $0.state == .queued && $0.leaseOwner == nil }, "\(released.map(\.state))")

        await sandbox.setFaults(latency: .zero)
        let restarted = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, try await store.stats().total(state: .succeeded) < 2 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await store.stats().total(state: .succeeded) == 2)
        // The interrupted request may have reached the LMS before the cut: the ledger still shows one
        // enrollment per course, because the retry is a no-op there.
        let ledger = await sandbox.ledger()
        #expect(summary(ledger).sorted() == ["enroll zoe \(course2026)", "enroll zoe \(demoCourse)"])
        #expect(restarted.stop() == 0)
        http.shutdown()
        await sandbox.stop()
    }

    @Test(arguments: ["text", "json"])
    func noSecretAppearsInAnyLogLineAtDebugLevel(format: String) async throws {
        let dir = try TemporaryDirectory()
        let sandbox = try await startSandbox()
        let config = try operationsConfig(dir, sandbox: sandbox, extra: """
            cybersource:
              profiles:
                "0000001": {access_key: access-key-1, secret_key: cs-SECRET-profile}
            logging: {level: debug, format: \(format)}
            """)
        let token = try await runToEnd(["tokens", "create", "--name", "shop", "--role", "storefront", "--config", config]).output
            .split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init) ?? ""
        #expect(!token.isEmpty)
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let http = CurlHTTPClient()
        #expect(try await post(http, serve.baseURL + "/webhooks/woocommerce/main", fixture: "woocommerce/order-727-processing.json") == 200)
        #expect(try await post(http, serve.baseURL + "/webhooks/woocommerce/main", fixture: "woocommerce/order-727-partial-refund.json") == 200)
        _ = try await http.execute(HTTPRequest(method: "POST", url: serve.baseURL + "/webhooks/woocommerce/main",
                                               headers: ["X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": "forged"],
                                               body: try fixture("woocommerce/order-727-processing.json")))
        let order = try await http.execute(HTTPRequest(method: "POST", url: serve.baseURL + "/api/v1/orders", headers: [
            "Authorization": "Bearer \(token)", "Content-Type": "application/json",
        ], body: Array(#"{"reference": "LOG-1", "email": "zoe.muller@example.com", "currency": "USD", "items": [{"course_id": "\#(demoCourse)", "unit_price": "10.00"}]}"#.utf8)))
        #expect(order.status == 201)
        // A callback carrying an unmasked card number must not leak it either.
        _ = try await http.execute(HTTPRequest(method: "POST", url: serve.baseURL + "/callbacks/cybersource",
                                               headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                               body: Array("decision=ACCEPT&req_card_number=4111111111111111&req_profile_id=0000001&signature=x&signed_field_names=decision".utf8)))
        _ = try await http.execute(HTTPRequest(method: "POST", url: serve.baseURL + "/callbacks/cybersource",
                                               headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                               body: Array("req_card_number=5555444433331111&x=%zz".utf8)))
        let store = try openStore(dir.path + "/registrar.sqlite")
        // Nor is it kept in the delivery ledger, even from a body that is not form encoding.
        let stored = try await store.deliveries(DeliveryFilter(source: "cybersource"))
        #expect(stored.count == 2 && stored.allSatisfy { !$0.bodyText.contains("4111111111111111") && !$0.bodyText.contains("5555444433331111") },
                "\(stored.map(\.bodyText))")
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, try await store.stats().total(state: .queued) + store.stats().total(state: .running) > 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(serve.stop() == 0)
        let log = serve.log
        #expect(log.contains("delivery recorded") && log.contains("attempt finished"), "the log is missing lines:\n\(log)")
        #expect(log.contains("zoe.muller@example.com") && log.contains("job_id"))
        for secret in [mainSecret, "sandbox-secret", "cs_sandbox", "ck_sandbox", "cs-SECRET-profile", token, "4111111111111111",
                       "5555444433331111",
                       "Bearer ", "JWT ey"] where !secret.isEmpty {
            #expect(!log.contains(secret), "the \(format) log contains \"\(secret)\"")
        }
        if format == "json" {
            for line in log.split(separator: "\n") where line.hasPrefix("{") {
                #expect(JSONValue.parse(String(line)) != nil, "not a JSON line: \(line)")
            }
        } else {
            // The text format is swift-log's StreamLogHandler's, which operators' tools may already parse.
            let shape = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (trace|debug|info|notice|warning|error|critical) [^ :]+:( .+)? \[[A-Za-z]+\] .+/
            let lines = log.split(separator: "\n").filter { $0.first?.isNumber == true }
            #expect(lines.count > 3)
            for line in lines { #expect(line.wholeMatch(of: shape) != nil, "not a text log line: \(line)") }
        }
        http.shutdown()
        await sandbox.stop()
    }
}
