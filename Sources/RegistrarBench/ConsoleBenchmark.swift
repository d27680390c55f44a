import ArgumentParser
import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore

/// `console`: the operators' web console on a database of `--jobs` production-shaped jobs (a month of history:
/// mostly succeeded WooCommerce and checkout enrollments, a few thousand failed, deliveries, attempts, audit).
/// The database is written by SQL (`SQLiteStore.benchmarkFillConsole`), then the release `registrar serve` runs
/// on it as operators run it; the bench signs in with an `ops` token and asks for each page one request at a
/// time, as one operator clicking would, timing each from request to the last byte of the answer.
struct ConsoleBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The web console's pages on a database of 1,000,000 jobs: p50/p99/max per page, each under 100 ms."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Jobs in the database (a multiple of 20).") var jobs = 1_000_000
    @Option(help: "Distinct learners (default: a quarter of --jobs).") var learners: Int?
    @Option(help: "Measured requests per page, one after another.") var requests = 30
    @Option(help: "Requests per page before measuring (not counted).") var warmup = 3
    @Option(help: "The registrar binary (default: the one next to this bench).") var registrar: String?
    @OptionGroup var fixtures: WebhookFixtures

    func validate() throws {
        guard (20...10_000_000).contains(jobs), jobs % 20 == 0 else { throw ValidationError("--jobs must be a multiple of 20, 20…10,000,000") }
        if let learners, !(1...jobs).contains(learners) { throw ValidationError("--learners must be 1…--jobs") }
        guard (1...10_000).contains(requests) else { throw ValidationError("--requests must be 1…10,000") }
        guard (0...1000).contains(warmup) else { throw ValidationError("--warmup must be 0…1,000") }
    }

    /// What one page measured.
    struct PageResult: Encodable {
        var page: String
        var path: String
        var latency: LatencyStats
        var bytes: Int
        var statuses: [Int: Int]

        var allOK: Bool { Set(statuses.keys) == [200] }
    }

    struct Result: Encodable {
        var jobs: Int
        var seedSeconds: Double
        var databaseBytes: Int
        var pages: [PageResult]
    }

    static let targetMilliseconds = 100.0

    func run() async throws {
        let began = ContinuousClock.now
        var report = Report(scenario: "console")
        let binary = try locateRegistrarBinary(registrar)
        let work = try WorkDirectory(parent: common.workDir, scenario: "console", keep: common.keep)
        let database = work.file("registrar.sqlite")
        let learnerCount = learners ?? max(1, jobs / 4)

        // The seed: the history by SQL, then what the store's own API makes (invoices' and contracts' codes), a token.
        print("console: writing \(Format.grouped(jobs)) jobs and their history…")
        let seedStart = ContinuousClock.now
        let store = try SQLiteStore(path: database, options: StoreOptions(jobs: JobsConfig()))
        try await store.benchmarkFillConsole(jobs: jobs, learners: learnerCount, now: Date(), deliveryBody: try deliveryTemplate())
        try await seedCommerce(store)
        let token = try await store.createToken(name: "bench-ops", role: .ops)
        let sample = try await Sample.find(in: store, jobs: jobs)
        try await store.benchmarkCheckpoint()
        try store.close()
        let seedSeconds = elapsedSeconds(since: seedStart)
        let databaseBytes = Self.fileSize(database) + Self.fileSize(database + "-wal")
        print("console: seeded in \(String(format: "%.1f", seedSeconds)) s, \(Format.grouped(databaseBytes / 1_048_576)) MiB; starting serve…")

        let configPath = work.file("registrar.yaml")
        // No LMS to reach: nothing is due anyway (queued jobs wait out a backoff of a day), so the workers stay idle.
        try serveConfiguration(database: database, sandboxURL: "http://127.0.0.1:9", logLevel: "info")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(binary: binary, configPath: configPath, logPath: work.file("registrar.log"))
        defer { _ = serve.stop() }
        // The invoices' mail jobs are due at once and fail at once (no mail configured): let that pass first.
        try await Task.sleep(for: .seconds(2))

        var http = HTTPClientConfiguration()
        http.maxConnections = 1
        http.totalTimeout = .seconds(60)
        let client = CurlHTTPClient(configuration: http)
        defer { client.shutdown() }
        let cookie = try await signIn(client, baseURL: serve.baseURL, token: token)

        var results: [PageResult] = []
        for (name, path) in sample.pages {
            var latencies: [Double] = []
            var statuses: [Int: Int] = [:]
            var bytes = 0
            for index in 0..<(warmup + requests) {
                let start = ContinuousClock.now
                let response = try await client.execute(HTTPRequest(url: serve.baseURL + path, headers: ["Cookie": cookie]))
                let milliseconds = (ContinuousClock.now - start).inMilliseconds
                statuses[response.status, default: 0] += 1
                bytes = response.body.count
                if index >= warmup { latencies.append(milliseconds) }
            }
            let stats = LatencyStats(milliseconds: latencies)
            results.append(PageResult(page: name, path: path, latency: stats, bytes: bytes, statuses: statuses))
            print("console: \(path) p50 \(Format.ms(stats.p50)) ms, max \(Format.ms(stats.max)) ms, \(Format.grouped(bytes)) B"
                + (Set(statuses.keys) == [200] ? "" : ", statuses \(statuses)"))
        }
        let status = serve.stop()
        if status != 0 { throw BenchError("registrar serve exited with status \(status); its log: \(serve.logPath)") }

        report.set("database", "\(Format.grouped(jobs)) jobs over 28 days, \(Format.grouped(learnerCount)) learners, 50 course runs; "
            + "\(Format.grouped(5 * (jobs / 20 + 1))) deliveries (3.7 KB bodies); written by SQL in \(String(format: "%.1f", seedSeconds)) s; "
            + "\(Format.grouped(databaseBytes / 1_048_576)) MiB; no ANALYZE (the store never runs it)")
        report.set("jobs", "≈ 99 % succeeded; 0.4 % failed (7 errors), 0.3 % queued in backoff, some cancelled and superseded; "
            + "70 % store main, 10 % store eu, 10 % hosted checkout, 5 % unenroll, 5 % refund or mail")
        report.set("requests", "\(requests) per page one at a time on one keep-alive connection (libcurl), after \(warmup) warm-up; "
            + "signed in with an ops token's session cookie")
        report.set("serve", "production defaults (16 workers, nothing due, no LMS reachable); binary \(describeBinary(binary))")
        report.table("Console pages, ms from request to the answer's last byte",
                     columns: ["page", "path", "p50", "p99", "max", "bytes", "< 100 ms"],
                     rows: results.map { result in
                         [result.page, result.path, Format.ms(result.latency.p50), Format.ms(result.latency.p99), Format.ms(result.latency.max),
                          Format.grouped(result.bytes), result.latency.p99 < Self.targetMilliseconds ? "yes" : "**no**"]
                     })
        let slow = results.filter { $0.latency.p99 >= Self.targetMilliseconds }
        report.target("every page on \(Format.grouped(jobs)) jobs", "p99 < 100 ms",
                      measured: "\(results.count - slow.count) of \(results.count) pages"
                          + (slow.isEmpty ? "" : "; over: " + slow.map { "\($0.page) \(Format.ms($0.latency.p99)) ms" }.joined(separator: ", ")),
                      pass: slow.isEmpty)
        report.note("the database was just written, so it is in the page cache: these are warm figures (a scan after a restart reads the disk)")
        let failed = results.filter { !$0.allOK }
        report.target("every page answered", "200", measured: failed.isEmpty ? "all 200" : failed.map { "\($0.path): \($0.statuses)" }.joined(separator: "; "),
                      pass: failed.isEmpty)
        if common.keep { report.note("database kept: \(database)") }
        report.wallSeconds = elapsedSeconds(since: began)
        report.data = Result(jobs: jobs, seedSeconds: seedSeconds, databaseBytes: databaseBytes, pages: results)
        try report.publish(jsonPath: common.jsonPath("console"))
        if !failed.isEmpty { throw BenchError("pages did not answer 200: " + failed.map(\.path).joined(separator: ", ")) }
    }

    /// The intake scenario's order body, with `{order}` and `{email}` where the seed puts each delivery's own.
    func deliveryTemplate() throws -> String {
        let path = try locateFixtures(fixtures.folder) + "/" + WooOrderWebhooks.fixture
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("cannot read \(path)") }
        var text = String(decoding: data, as: UTF8.self)
        for (from, to) in [(#"{"id":727,"#, #"{"id":{order},"#), (#""number":"727""#, #""number":"{order}""#),
                           (#""email":"zoe.muller@example.com""#, #""email":"{email}""#)] {
            guard let range = text.range(of: from) else { throw BenchError("\(path) no longer has \(from)") }
            text.replaceSubrange(range, with: to)
        }
        return text
    }

    /// What the commerce pages list, made through the store's API: 50 invoices of 20 seats and 5 contracts of
    /// 3 runs capped at 40 learners (their codes), so those pages have rows to render.
    func seedCommerce(_ store: SQLiteStore) async throws {
        for index in 0..<50 {
            let request = InvoiceRequest(courseID: "course-v1:BenchX+C\(String(format: "%02d", index % 50))+2026_T1", mode: "verified", seats: 20,
                                         unitPrice: "49.00", currency: "USD", companyName: "Bench Company \(index)",
                                         contactEmail: "buyer\(index)@company.example.com", recipientEmail: "lead\(index)@company.example.com",
                                         poNumber: "PO-\(1000 + index)")
            guard case .success(let checked) = InvoiceRules.check(request) else { throw BenchError("invoice \(index) refused") }
            _ = try await store.createInvoice(checked, actor: "bench", publicURL: nil)
        }
        let org = try await store.createOrganization(name: "Bench University", key: "BENCHU")
        for index in 0..<5 {
            let contract = try await store.createContract(NewContract(organizationID: org.id, name: "Cohort \(index)",
                                                                      terms: ContractTerms(integration: .nonSSO, maxLearners: 40),
                                                                      createdBy: "bench"))
            _ = try await store.addCourseware(contract.id, runs: (0..<3).map {
                ContractRunRequest(courseID: "course-v1:BENCHU+K\(index)\($0)+2026_C\(contract.id)", sourceID: nil)
            }, actor: "bench")
            _ = try await store.syncContract(contract.id)
        }
    }

    /// POST /console/signin with the token: a 303 whose cookie is the session.
    func signIn(_ client: CurlHTTPClient, baseURL: String, token: String) async throws -> String {
        let body = "token=" + ConsoleBenchCommand.query(token)
        let response = try await client.execute(HTTPRequest(method: "POST", url: baseURL + "/console/signin",
                                                            headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                            body: Array(body.utf8)))
        guard response.status == 303, let setCookie = response.header("Set-Cookie"),
              let pair = setCookie.split(separator: ";").first, pair.hasPrefix("registrar_console=") else {
            throw BenchError("sign-in answered \(response.status) without the session cookie: \(response.bodyText.prefix(300))")
        }
        return String(pair)
    }

    static func query(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Search terms that find something in the seeded history, read back from it: a learner, a course, a store
    /// order, a checkout order, a delivery (from jobs in the middle of the table) and a failed enroll job.
    struct Sample {
        var email: String
        var course: String
        var storeOrder: String
        var checkoutReference: String
        var deliveryID: Int64
        var middleID: Int64
        var failedJobID: Int64
        /// The 50th oldest rejected delivery: the rejected list's last page (what its "Older →" links lead to).
        var lastRejectedPage: Int64

        static func find(in store: SQLiteStore, jobs: Int) async throws -> Sample {
            let middle = Int64(jobs / 2)
            let around = try await store.jobs(JobFilter(beforeID: middle + 1, limit: 40))
            guard let learnerJob = around.first(where: { $0.kind == .enroll && $0.dedupeKey.hasPrefix("woo:main:") }),
                  let serial = learnerJob.serialKey, let bar = serial.firstIndex(of: "|"),
                  let checkout = around.first(where: { $0.dedupeKey.hasPrefix("order:") }),
                  let delivered = around.first(where: { $0.deliveryID != nil }), let deliveryID = delivered.deliveryID,
                  let failed = try await store.jobs(JobFilter(state: .failed, kind: .enroll, beforeID: middle, limit: 1)).first else {
                throw BenchError("the seeded history lacks the jobs the pages are searched for")
            }
            let rejected = try await store.deliveries(DeliveryFilter(verdict: "rejected", limit: 10_000_000))
            let parts = learnerJob.dedupeKey.split(separator: ":")   // woo:main:ORDER:LINE:enroll
            let reference = checkout.dedupeKey.split(separator: ":")[1]
            return Sample(email: String(serial[..<bar]), course: String(serial[serial.index(after: bar)...]),
                          storeOrder: "main:\(parts[2])", checkoutReference: String(reference), deliveryID: deliveryID,
                          middleID: middle, failedJobID: failed.id,
                          lastRejectedPage: rejected.count > 50 ? rejected[rejected.count - 50].id : rejected.last?.id ?? 1)
        }

        /// Each page as an operator reaches it, with the search terms above.
        var pages: [(String, String)] {
            let q = ConsoleBenchCommand.query
            return [
                ("overview", "/console"),
                ("failures inbox", "/console/failures"),
                ("jobs, newest", "/console/jobs"),
                ("jobs, failed", "/console/jobs?state=failed"),
                ("jobs, succeeded", "/console/jobs?state=succeeded"),
                ("jobs, queued enrolls", "/console/jobs?kind=enroll&state=queued"),
                ("jobs of a learner", "/console/jobs?email=\(q(email))"),
                ("jobs of a course", "/console/jobs?course=\(q(course))"),
                ("jobs of a store order", "/console/jobs?order=\(q(storeOrder))"),
                ("jobs of a checkout order", "/console/jobs?order=\(q(checkoutReference))"),
                ("jobs of a store", "/console/jobs?store=main"),
                ("jobs of a delivery", "/console/jobs?delivery=\(deliveryID)"),
                ("jobs, a page in the middle", "/console/jobs?before=\(middleID)"),
                ("a failed job", "/console/jobs/\(failedJobID)"),
                ("bulk replay preview", "/console/bulk?action=replay&state=failed&kind=enroll"),
                ("deliveries", "/console/deliveries"),
                ("deliveries, rejected", "/console/deliveries?verdict=rejected"),
                ("audit trail", "/console/audit"),
                ("orders needing attention", "/console/orders"),
                ("codes", "/console/codes"),
                ("invoices", "/console/invoices"),
                ("contracts", "/console/contracts"),
                // Searches the forms allow that match little or nothing: a course run without jobs (mistyped, or
                // all pruned), a verdict this history has none of (no CyberSource here), the rejected list's last
                // page (rejected deliveries go after 7 days, the rest after 30).
                ("worst case: a course without jobs", "/console/jobs?course=\(q("course-v1:BenchX+C99+2026_T1"))"),
                ("worst case: a verdict without deliveries", "/console/deliveries?verdict=paid"),
                ("worst case: the last page of rejected", "/console/deliveries?verdict=rejected&before=\(lastRejectedPage)"),
            ]
        }
    }
}
