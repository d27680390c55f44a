import ArgumentParser
import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarPostgres
import RegistrarServer
import RegistrarStore
import Sandbox
import Synchronization

/// One command, no setup: the sandbox LMS and Registrar on free loopback ports with a temporary database,
/// real deliveries from `fixtures/`, and a table of what happened.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Walk through Registrar end to end against the bundled sandbox (no configuration needed).")

    @Option(help: "The fixtures folder (default: ./fixtures, or the one next to the build).") var fixtures: String?
    @Flag(help: "Keep the temporary database and print its path.") var keep = false
    @Option(help: "A PostgreSQL server (postgres://USER@HOST:PORT/DB?sslmode=…) to run the demo on instead of a SQLite file: in a new database made and migrated there, dropped at the end.")
    var database: String?

    static let webhookSecret = "demo-webhook-secret"
    static let profileID = "0000001"
    static let profileSecret = "demo-profile-secret"

    /// A new database on the server `--database` names, made and migrated before the demo starts.
    private struct DemoDatabase {
        var server: PostgresURL
        var url: PostgresURL
        var schema: Int
    }

    func run() async throws {
        // Before anything is made: a wrong folder leaves nothing behind.
        let fixturesDir = try locateFixtures()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-demo-\(UUID().uuidString.prefix(8))").path
        // The pool's start-up chatter is not the demo's to show.
        var quiet = Logger(label: "registrar.postgres")
        quiet.logLevel = .error
        var made: DemoDatabase?
        if let database {
            let server = try PostgresURL.parse(database)
            let url = try await PostgresAdmin.createDatabase("registrar_demo_" + UUID().uuidString.prefix(8).lowercased(), on: server,
                                                             logger: quiet)
            made = DemoDatabase(server: server, url: url, schema: 0)
        }
        // The work folder and the database are removed however the demo ends, unless --keep: a failed demo leaves
        // nothing behind. The services on them are stopped first, so none is left working on a store that is gone.
        let shutdown = DemoShutdown()
        let drop = { [keep] in
            await shutdown.run()
            guard !keep else { return }
            try? FileManager.default.removeItem(atPath: work)
            if let made { try? await PostgresAdmin.dropDatabase(made.url.database, on: made.server, logger: quiet) }
        }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            if let url = made?.url { made?.schema = try await PostgresStore.migrate(url, logger: quiet).to }
            try await demo(fixturesDir: fixturesDir, work: work, on: made, shutdown: shutdown)
        } catch {
            await drop()
            // The demo may have failed before its banner named them.
            if keep {
                let kept = (made.map { "database \($0.url.database) and " } ?? "") + work
                FileHandle.standardError.write(Data("registrar demo: kept \(kept) (--keep)\n".utf8))
            }
            throw error
        }
        await drop()
    }

    private func demo(fixturesDir: String, work: String, on postgres: DemoDatabase?, shutdown: DemoShutdown) async throws {
        var sandboxConfig = SandboxConfiguration()
        sandboxConfig.port = 0
        sandboxConfig.logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
        sandboxConfig.seed = try SandboxSeed.load(path: fixturesDir + "/woocommerce/sandbox-seed.json")
        sandboxConfig.smtpPort = 0
        let sandbox = try await Sandbox.start(sandboxConfig)
        try await sandbox.addUser(username: "sam", email: "sam.okafor@example.com", name: "Sam Okafor")
        // Paid while its webhook was lost: only catch-up (the job `serve` runs at start, then every 5 minutes)
        // finds it, by listing the store's orders.
        try await sandbox.addUser(username: "lee", email: "lee.chen@example.com", name: "Lee Chen")
        // Redeems one of the codes of a two-seat purchase.
        try await sandbox.addUser(username: "kim", email: "kim.ito@example.com", name: "Kim Ito")
        try await sandbox.addWooOrders([[
            "id": 740, "number": "740", "status": "processing", "currency": "USD", "total": "49.00",
            "billing": ["first_name": "Lee", "last_name": "Chen", "email": "lee.chen@example.com"],
            "line_items": [["id": 741, "name": "Demo course 2026", "product_id": 93, "variation_id": 0, "quantity": 1,
                            "subtotal": "49.00", "total": "49.00", "sku": "", "price": 49, "meta_data": []]],
        ]])
        // A contract's source run in Studio, and a learner of the contracting organization.
        try await sandbox.addCourse(SandboxSeed.Course(id: "course-v1:UAI_SOURCE+18.01x+SOURCE", title: "Calculus 1A", modes: ["audit"]))
        try await sandbox.addUser(username: "ria", email: "ria.das@example.com", name: "Ria Das")
        try await sandbox.addWooWebhook(["id": 12, "name": "Registrar", "status": "active", "topic": "order.updated",
                                         "delivery_url": "https://registrar.example.edu/webhooks/woocommerce/main"])

        // The store: a SQLite file in the work directory, or a new database on the PostgreSQL server given.
        var storeSetting = work + "/registrar.sqlite"
        var storeShown = storeSetting
        var passwordFile: String?
        if let postgres {
            let made = postgres.url
            storeSetting = "\"\(made)\""
            storeShown = "PostgreSQL \(made.host):\(made.port)/\(made.database), schema \(postgres.schema) (registrar migrate)"
            if let password = made.password {
                let path = work + "/database-password"
                guard FileManager.default.createFile(atPath: path, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw CLIError("cannot write the database password file \(path)")
                }
                passwordFile = path
            }
        }
        let config = try demoConfig(database: storeSetting, passwordFile: passwordFile, sandbox: sandbox.baseURL,
                                    smtpPort: sandbox.smtpPort ?? 25)
        var logger = Logger(label: "registrar") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .error
        let daemon = try await Daemon(config: config, logger: logger)
        let token = try await daemon.store.createToken(name: "demo-storefront", role: .storefront)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let group = daemon.serviceGroup(signals: []) { port in
            portSink.yield(port)
            portSink.finish()
        }
        let running = Task { try await group.run() }
        shutdown.register {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            daemon.close()
            await sandbox.stop()
        }
        var port = 0
        for await value in ports { port = value }
        let base = "http://127.0.0.1:\(port)"
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        print("Registrar demo")
        print("  sandbox LMS and store  \(sandbox.baseURL)")
        print("  registrar serve        \(base)")
        print("  database               \(storeShown)\(keep ? "" : " (removed at the end; --keep keeps it)")")
        print("")

        var steps: [(what: String, status: String, answer: String, jobs: String)] = []
        func record(_ what: String, _ response: HTTPResponse) {
            let json = JSONValue.parse(response.bodyText)
            let answer = json?["status"]?.stringValue ?? json?["error"]?.stringValue ?? ""
            let jobs = json?["jobs"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? ""
            steps.append((what, "\(response.status)", answer, jobs.isEmpty ? "-" : jobs))
        }
        func woo(_ file: String) async throws -> HTTPResponse {
            let body = Array(try Data(contentsOf: URL(fileURLWithPath: fixturesDir + "/woocommerce/" + file)))
            return try await http.execute(HTTPRequest(method: "POST", url: base + "/webhooks/woocommerce/main", headers: [
                "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Resource": "order",
                "X-WC-Webhook-Event": "updated", "X-WC-Webhook-Source": "https://shop.example.com/",
                "X-WC-Webhook-Signature": WooWebhookSignature.sign(body: body, secret: Secret(Self.webhookSecret)),
            ], body: body))
        }
        record("WooCommerce: order 727 paid (2 course lines, 1 T-shirt)", try await woo("order-727-processing.json"))
        record("WooCommerce: the same delivery again", try await woo("order-727-processing.json"))
        record("WooCommerce: order 727 refund 731 (line 311 only)", try await woo("order-727-partial-refund.json"))

        // The storefront sends no price: the listed one is used, and the buyer's coupon is taken off it.
        _ = try await daemon.store.setPrice(ListedPrice(courseID: "course-v1:edX+DemoX+2026", mode: "verified", currency: "USD", price: 99),
                                            actor: "demo")
        try await daemon.store.createCoupon(Coupon(code: "WELCOME10", kind: .percent(10), maxUses: 100), description: "demo", actor: "demo")
        let order = try await http.execute(HTTPRequest(method: "POST", url: base + "/api/v1/orders", headers: [
            "Authorization": "Bearer \(token)", "Content-Type": "application/json",
        ], body: Array(#"{"reference": "DEMO-1", "email": "sam.okafor@example.com", "currency": "USD", "coupon": "welcome10", "items": [{"course_id": "course-v1:edX+DemoX+2026", "mode": "verified"}]}"#.utf8)))
        let orderTotal = JSONValue.parse(order.bodyText)?["total"]?.stringValue ?? "?"
        record("Storefront: order DEMO-1 at the listed 99.00 USD, coupon WELCOME10 (10%): \(orderTotal) to pay", order)
        let callback = try await http.execute(HTTPRequest(method: "POST", url: base + "/callbacks/cybersource",
                                                          headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                          body: acceptCallback(reference: "DEMO-1", amount: orderTotal)))
        record("CyberSource: ACCEPT for DEMO-1 (\(orderTotal) USD)", callback)

        // What anyone without the secret can do: the ledger keeps 4 KiB and a hash of each, then answers 429.
        let junk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        func forged() async throws -> HTTPResponse {
            try await http.execute(HTTPRequest(method: "POST", url: base + "/webhooks/woocommerce/main", headers: [
                "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": "Zm9yZ2Vk",
            ], body: junk))
        }
        record("Anyone: 1 MiB with a forged signature (kept: 4 KiB + SHA-256)", try await forged())
        record("Anyone: the same again", try await forged())
        record("Anyone: a third time (server.rejections_per_minute: 2)", try await forged())
        let rejected = try await daemon.store.deliveries(DeliveryFilter(verdict: "rejected"))
        let rejectionsKeptSmall = rejected.count == 2 && rejected.allSatisfy { $0.body.count == 4096 && $0.bodySize == 1 << 20 }

        // Two seats in one line: two codes for the buyer to hand out; a learner redeems one on /redeem.
        let seatsBody = Array(#"{"id":750,"number":"750","status":"processing","currency":"USD","total":"98.00","date_modified_gmt":"2026-12-01T09:00:00","billing":{"first_name":"Pat","last_name":"Lead","email":"pat.lead@example.com"},"line_items":[{"id":751,"name":"Demo course 2026","product_id":93,"variation_id":0,"quantity":2,"subtotal":"98.00","total":"98.00","sku":"","price":49,"meta_data":[]}],"refunds":[]}"#.utf8)
        let seats = try await http.execute(HTTPRequest(method: "POST", url: base + "/webhooks/woocommerce/main", headers: [
            "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": WooWebhookSignature.sign(body: seatsBody, secret: Secret(Self.webhookSecret)),
        ], body: seatsBody))
        record("WooCommerce: order 750, 2 seats in one line (codes, not the buyer)", seats)
        let seatCodes = try await daemon.store.codes(CodeFilter(source: "order", sourceReference: "main:750:751"))
        if let first = seatCodes.last {
            let page = try await http.execute(HTTPRequest(method: "POST", url: base + "/redeem",
                                                          headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                          body: Array(FormEncoding.encode([("code", first.code.grouped), ("email", "kim.ito@example.com")]).utf8)))
            let redeemedJob = try await daemon.store.code(first.code)?.redemptions.first?.jobID
            steps.append(("Learner: /redeem with one of the 2 codes", "\(page.status)", page.bodyText.contains("You have a seat") ? "redeemed" : "refused",
                          redeemedJob.map(String.init) ?? "-"))
        }

        // A B2B contract capped at 3 learners with one course: its run cloned in Studio, its codes, one redeemed.
        let org = try await daemon.store.createOrganization(name: "Acme Corp", key: "ACME")
        var contract = try await daemon.store.createContract(NewContract(
            organizationID: org.id, name: "Acme Analytics Academy",
            terms: ContractTerms(integration: .nonSSO, maxLearners: 3), createdBy: "demo"))
        if case .success(let runs) = ContractCourseware.requests(["18.01x"], contract: contract, config: config.contracts, attach: false, now: Date()) {
            _ = try await daemon.store.addCourseware(contract.id, runs: runs, actor: "demo")
        }
        var contractCodes: [CodeRecord] = []
        for _ in 0..<200 {
            contract = try await daemon.store.contract(contract.id) ?? contract
            contractCodes = try await daemon.store.codes(CodeFilter(source: "contract", sourceReference: String(contract.id)))
            if contract.runs.first?.state == .ready && contractCodes.count == 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let contractRun = contract.runs.first?.courseID ?? "-"
        let cloneJob = try await daemon.store.jobs(JobFilter(kind: .clone)).first
        steps.append(("Contract: Acme Corp, cap 3; 18.01x cloned in Studio as \(contractRun), \(contractCodes.count) codes", "-",
                      contract.runs.first?.state.rawValue ?? "no run", cloneJob.map { String($0.id) } ?? "-"))
        if let code = contractCodes.last {
            let redeemed = try await http.execute(HTTPRequest(
                method: "POST", url: base + "/api/v1/codes/\(code.code.grouped)/redemptions",
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                body: Array(#"{"email": "ria.das@example.com"}"#.utf8)))
            let job = JSONValue.parse(redeemed.bodyText)?["job"].flatMap { value -> String? in
                if case .number(let id) = value { return String(Int(id)) }
                return nil
            }
            steps.append(("Learner: a contract code redeemed by ria.das@example.com", "\(redeemed.status)",
                          JSONValue.parse(redeemed.bodyText)?["status"]?.stringValue ?? "", job ?? "-"))
        }

        let expected = 8 // enroll 311, enroll 312, unenroll 311, enroll DEMO-1, enroll 740 (catch-up), enroll kim (code), clone, enroll ria
        let finished = try await waitForWorkers(daemon.store, sandbox: sandbox, expectedChanges: expected)
        let recovered = try await daemon.store.deliveries(DeliveryFilter(source: "catch-up"))
        for delivery in recovered.reversed() {
            steps.append(("Catch-up: order 740 paid, its webhook never came (found listing the store)", "-", delivery.verdict,
                          delivery.jobIDs.isEmpty ? "-" : delivery.jobIDs.map(String.init).joined(separator: ",")))
        }

        // An operator's view of it all: a viewer signs in to the web console and opens the failures inbox.
        let viewer = try await daemon.store.createToken(name: "demo-viewer", role: .viewer)
        let signIn = try await http.execute(HTTPRequest(method: "POST", url: base + "/console/signin",
                                                        headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                        body: Array(FormEncoding.encode([("token", viewer)]).utf8)))
        let cookie = signIn.header("set-cookie").map { String($0.split(separator: ";")[0]) } ?? ""
        let inbox = try await http.execute(HTTPRequest(url: base + "/console/failures", headers: ["Cookie": cookie]))
        let inboxClear = inbox.status == 200 && inbox.bodyText.contains("No failed jobs.")
        steps.append(("Console: a viewer signs in at /console and opens the failures inbox", "\(inbox.status)",
                      inboxClear ? "no failed jobs" : "failures listed", "-"))

        let mailed = sandbox.mail().filter { $0.to == ["pat.lead@example.com"] }.count
        let mailJob = try await daemon.store.jobs(JobFilter(kind: .mail)).first
        steps.append(("Mail: the 2 codes of order 750 to pat.lead@example.com (sandbox SMTP sink)", "-",
                      mailed == 1 ? "delivered" : "not delivered", mailJob.map { String($0.id) } ?? "-"))

        var deliveries = TextTable(["#", "DELIVERY", "HTTP", "ANSWER", "JOBS"])
        for (index, step) in steps.enumerated() {
            deliveries.add(["\(index + 1)", step.what, "\(step.status)", step.answer, step.jobs])
        }
        print("Deliveries (each answered only after it and its jobs were committed)\n" + deliveries.render() + "\n")

        let jobs = try await daemon.store.jobs(JobFilter(limit: 100)).reversed()
        var jobTable = TextTable(["JOB", "KIND", "STATE", "TRIES", "RESULT"])
        for job in jobs {
            jobTable.add(["\(job.id)", job.kind.rawValue, job.state.rawValue, "\(job.attempts)",
                          truncate(job.state == .succeeded ? job.result : job.lastError, 90)])
        }
        print("Jobs\n" + jobTable.render() + "\n")

        let ledger = await sandbox.ledger()
        var effects = TextTable(["#", "CHANGE IN THE LMS", "LEARNER", "COURSE RUN", "MODE", "ORDER"])
        for entry in ledger {
            effects.add(["\(entry.seq)", entry.action.rawValue, entry.user ?? entry.email ?? "-", entry.courseID,
                         entry.mode ?? "-", entry.order ?? "-"])
        }
        print("Effects in the sandbox LMS (its ledger of applied changes)\n" + effects.render() + "\n")

        // The finance reports over what just happened, against the sandbox LMS's own enrollment list.
        let desk = ReportDesk(store: daemon.store, roster: LMSRoster(client: daemon.handlers.openedx, store: daemon.store), staff: [])
        let demoRun = "course-v1:edX+DemoX+2026"
        let seatsReport = try await desk.seats(courseID: demoRun)
        let audit = try await desk.audit(courseID: demoRun)
        let revenue = try await desk.revenue(courseID: nil, period: .init())
        var reports = TextTable(["REPORT", "RESULT"])
        reports.add(["reports seats --course \(demoRun)", "\(seatsReport.paidSingleSeats) paid single seats + \(seatsReport.codesGenerated.values.reduce(0, +)) codes = \(seatsReport.seatsSold) seats sold"])
        reports.add(["reports audit --course \(demoRun)", audit.equation])
        for row in revenue.rows {
            reports.add(["reports revenue: \(row.courseID)", "\(Money.format(row.singleSeatGross + row.multiSeatGross)) \(row.currency) gross, \(Money.format(row.discounts)) discounts, \(Money.format(row.refunds)) refunded, \(Money.format(row.net)) net"])
        }
        print("Reports (the audits the shopping cart left to SQL)\n" + reports.render() + "\n")

        await shutdown.run()

        let allSucceeded = jobs.allSatisfy { $0.state == .succeeded }
        let summary = ledger.map { "\($0.action.rawValue) \($0.user ?? "") \($0.courseID)" }
        let wanted = ["enroll zoe course-v1:edX+DemoX+Demo_Course", "enroll zoe course-v1:edX+DemoX+2026",
                      "unenroll zoe course-v1:edX+DemoX+Demo_Course", "enroll sam course-v1:edX+DemoX+2026",
                      "enroll lee course-v1:edX+DemoX+2026", "enroll kim course-v1:edX+DemoX+2026",
                      "clone  \(contractRun)", "enroll ria \(contractRun)"]
        let forgedAnswers = steps.filter { $0.what.hasPrefix("Anyone") }.map(\.status)
        if finished && allSucceeded && Set(summary) == Set(wanted) && summary.count == wanted.count
            && forgedAnswers == ["401", "401", "429"] && rejectionsKeptSmall && recovered.count == 1 && seatCodes.count == 2
            && mailed == 1 && contractCodes.count == 3 && audit.balances && audit.byCause[.unexplained] == 0 && orderTotal == "89.10" && inboxClear {
            print("All \(jobs.count) jobs succeeded: the paid lines were enrolled once (the repeated delivery changed nothing), the refunded line was unenrolled after its enrollment, and the CyberSource payment, priced from the list with a coupon, ended as an enrollment. The order whose webhook was lost was found by catch-up and enrolled. The two-seat line became two codes, mailed to the buyer over SMTP, and the one redeemed on /redeem enrolled its learner. The contract's run was cloned in Studio, its three codes made, and the one redeemed enrolled its learner. The forged posts left 4 KiB each in the ledger, and the third was turned away. The audit explains every enrollment of the 2026 run, and the console's failures inbox is empty.")
        } else {
            print("Something did not happen as expected: see the tables above.")
            throw ExitCode.failure
        }
    }

    private func locateFixtures() throws -> String {
        var candidates: [String] = []
        if let fixtures { candidates.append(fixtures) }
        candidates.append(FileManager.default.currentDirectoryPath + "/fixtures")
        // `swift run` puts the binary in .build/<config>/; the fixtures are at the repository's root.
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(binary.deletingLastPathComponent().appendingPathComponent("../../../fixtures").standardized.path)
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate + "/woocommerce/sandbox-seed.json") {
            return candidate
        }
        throw CLIError("cannot find the fixtures folder (looked in \(candidates.joined(separator: ", "))): run from the repository, or pass --fixtures DIR")
    }

    private func demoConfig(database: String, passwordFile: String?, sandbox: String, smtpPort: Int) throws -> RegistrarConfig {
        let yaml = """
            database: \(database)\(passwordFile.map { "\ndatabase_password_file: \($0)" } ?? "")
            server: {host: 127.0.0.1, port: 0, rejections_per_minute: 2}
            openedx: {lms_url: \(sandbox), studio_url: \(sandbox), client_secret: sandbox-secret, requests_per_minute: 6000}
            woocommerce:
              stores:
                main: {webhook_secret: \(Self.webhookSecret), url: \(sandbox), consumer_key: ck_sandbox, consumer_secret: cs_sandbox}
            catalog:
              - {store: main, product_id: 93, course_id: "course-v1:edX+DemoX+2026", mode: audit}
            cybersource:
              profiles:
                "\(Self.profileID)": {access_key: demo-access-key, secret_key: \(Self.profileSecret)}
            mail: {smtp_url: "smtp://127.0.0.1:\(smtpPort)", smtp_tls: optional, from: "Registrar demo <no-reply@registrar.example>"}
            jobs: {concurrency: 4, backoff_base_seconds: 0.1, backoff_cap_seconds: 1, poll_interval_seconds: 0.1}
            """
        return try ConfigLoader(environment: [:]).load(text: yaml, file: "(demo)")
    }

    /// What CyberSource posts back after a successful payment, signed with the profile's secret.
    private func acceptCallback(reference: String, amount: String) -> [UInt8] {
        var fields: [(String, String)] = [
            ("decision", "ACCEPT"), ("reason_code", "100"), ("req_reference_number", reference), ("req_amount", amount),
            ("auth_amount", amount), ("req_currency", "USD"), ("transaction_id", "7\(Int.random(in: 100_000_000...999_999_999))"),
            ("req_profile_id", Self.profileID), ("req_access_key", "demo-access-key"), ("req_card_number", "xxxxxxxxxxxx1111"),
            ("req_card_type", "001"), ("signed_date_time", SignedDateTime.format(Date())),
        ]
        let names = fields.map(\.0) + ["signed_field_names"]
        fields.append(("signed_field_names", names.joined(separator: ",")))
        let signature = SecureAcceptanceSignature.sign(fields: Dictionary(fields, uniquingKeysWith: { a, _ in a }),
                                                       signedFieldNames: names, secret: Secret(Self.profileSecret))
        fields.append(("signature", signature))
        return Array(FormEncoding.encode(fields).utf8)
    }

    /// Waits for the workers, with a progress line, until nothing is queued or running and the ledger holds
    /// the expected number of changes. Returns false after 60 s.
    private func waitForWorkers(_ store: any JobOperations, sandbox: RunningSandbox, expectedChanges: Int) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        var done = false
        while ContinuousClock.now < deadline {
            let stats = try await store.stats()
            let open = stats.total(state: .queued) + stats.total(state: .running)
            let total = stats.counts.reduce(0) { $0 + $1.count }
            let changes = await sandbox.ledger().count
            FileHandle.standardError.write(Data("\rwaiting for the workers: \(total - open) of \(total) jobs finished, \(changes) changes in the LMS   ".utf8))
            if open == 0 && changes >= expectedChanges { done = true; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        FileHandle.standardError.write(Data("\n\n".utf8))
        return done
    }
}

/// Stops the demo's services, once: registered when they run, run at the demo's end or by a failure midway (before
/// the database under them is dropped).
private final class DemoShutdown: Sendable {
    private let stop = Mutex<(@Sendable () async -> Void)?>(nil)

    func register(_ steps: @escaping @Sendable () async -> Void) {
        stop.withLock { $0 = steps }
    }

    func run() async {
        let steps = stop.withLock { stop in
            defer { stop = nil }
            return stop
        }
        await steps?()
    }
}
