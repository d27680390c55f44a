import ArgumentParser
import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Synchronization

/// `redeem`: learners redeeming distinct one-time codes through `registrar serve`'s storefront API, as fast as
/// `--clients` closed loops can: each redemption is one commit (the code read, the rule applied, the
/// redemption and its enroll job written), answered 201 only after it. Then `--invoice` codes made in one
/// commit and their CSV written, as an invoice of that many seats would.
struct RedeemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeem",
        abstract: "Code redemptions per second through serve (distinct codes, durable), p50/p99; making 10,000 codes and their CSV."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Concurrent clients, each redeeming code after code.") var clients = 64
    @Option(help: "Measured seconds, after a 1 s warm-up.") var seconds = 10.0
    @Option(help: "Codes made and written to a CSV in the second part.") var invoice = 10_000
    @Option(help: "The registrar binary (default: the one next to this bench).") var registrar: String?

    func validate() throws {
        guard (1...1024).contains(clients) else { throw ValidationError("--clients must be 1…1024") }
        guard (1...300).contains(seconds) else { throw ValidationError("--seconds must be 1…300") }
        guard (1...1_000_000).contains(invoice) else { throw ValidationError("--invoice must be 1…1,000,000") }
    }

    struct Result: Encodable {
        var redemptionsPerSecond: Double
        var redeemed: Int
        var errors: Int
        var latency: LatencyStats
        var enrollJobs: Int
        var invoiceCodes: Int
        var invoiceCommitSeconds: Double
        var invoiceCSVSeconds: Double
        var invoiceCSVBytes: Int
    }

    func run() async throws {
        let began = ContinuousClock.now
        var report = Report(scenario: "redeem")
        let binary = try locateRegistrarBinary(registrar)
        let work = try WorkDirectory(parent: common.workDir, scenario: "redeem", keep: common.keep)
        let database = work.file("registrar.sqlite")
        // Enough codes for the fastest plausible run, made before serve starts (one commit).
        let supply = Int(seconds + 2) * 8000
        let store = try SQLiteStore(path: database, options: StoreOptions(jobs: JobsConfig()))
        let token = try await store.createToken(name: "bench-shop", role: .storefront)
        let codes = try await store.createCodes(NewCodes(count: supply, courseID: "course-v1:edX+DemoX+2026", mode: "audit",
                                                         source: "invoice", sourceReference: "bench"))
        try store.close()

        let configPath = work.file("registrar.yaml")
        // No workers' LMS to reach: the enroll jobs stay queued; the figure is the redemption's.
        try (serveConfiguration(database: database, sandboxURL: "http://127.0.0.1:9", logLevel: "info")
            .replacingOccurrences(of: "server: {host: 127.0.0.1, port: 0}", with: "server: {host: 127.0.0.1, port: 0}\njobs: {concurrency: 1}"))
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(binary: binary, configPath: configPath, logPath: work.file("registrar.log"))
        defer { _ = serve.stop() }
        let requests = RedemptionRequests(codes: codes.map(\.code.value), token: token)
        let client = try NIOLoadClient(url: serve.baseURL + "/api/v1/codes", connections: clients, requests: requests, expectedStatus: 201)
        print("redeem: \(clients) clients for \(seconds) s…")
        let next = SharedCounter(0)
        func phase(_ duration: Duration) async -> (latencies: [Double], errors: Int, elapsed: Double, firstError: String?) {
            let start = ContinuousClock.now
            // Never past the codes made: a request for one that does not exist would be a 404, not a redemption.
            let lanes = await client.run(until: start + duration, budget: max(0, codes.count - next.peek()), orders: next)
            let errors = lanes.reduce(0) { $0 + $1.transportErrors + $1.errorsByStatus.values.reduce(0, +) }
            return (lanes.flatMap(\.latencies), errors, (ContinuousClock.now - start).inMilliseconds / 1000,
                    lanes.compactMap(\.firstError).first)
        }
        _ = await phase(.seconds(1))
        let measured = await phase(.milliseconds(Int64(seconds * 1000)))
        await client.shutdown()
        if let problem = measured.firstError { print("redeem: first error: \(problem)") }
        let status = serve.stop()
        if status != 0 { throw BenchError("registrar serve exited with status \(status)") }

        let check = try SQLiteStore(path: database, options: StoreOptions(jobs: JobsConfig()))
        let enrollJobs = try await check.stats().total
        // The invoice part: that many codes in one commit, then their CSV.
        let commitStart = ContinuousClock.now
        let made = try await check.createCodes(NewCodes(count: invoice, courseID: "course-v1:edX+DemoX+2026", mode: "verified",
                                                        source: "invoice", sourceReference: "bench-invoice"))
        let commitSeconds = (ContinuousClock.now - commitStart).inMilliseconds / 1000
        let csvStart = ContinuousClock.now
        let csv = CodeCSV.render(made.map { CodeCSV.Row(code: $0.code, courseID: $0.courseID, mode: $0.mode, source: $0.source,
                                                        invoiceID: "bench-invoice", state: $0.state, redemptions: []) },
                                 publicURL: "https://registrar.example.com")
        try csv.write(toFile: work.file("invoice-codes.csv"), atomically: true, encoding: .utf8)
        let csvSeconds = (ContinuousClock.now - csvStart).inMilliseconds / 1000
        try check.close()

        let rate = Double(measured.latencies.count) / max(measured.elapsed, 0.001)
        let latency = LatencyStats(milliseconds: measured.latencies)
        report.set("clients", "\(clients) concurrent closed loops (NIOLoadClient on one event-loop thread, keep-alive), each POSTing the next distinct code")
        report.set("serve", "production defaults, storefront token; no LMS reachable, so enroll jobs stay queued")
        report.set("serve binary", describeBinary(binary))
        report.table("Redemptions (201: redemption and enroll job committed, synchronous=FULL)",
                     columns: ["redemptions/s", "p50 ms", "p99 ms", "redeemed", "errors"],
                     rows: [[Format.rate(rate), Format.ms(latency.p50), Format.ms(latency.p99), Format.grouped(measured.latencies.count),
                             Format.grouped(measured.errors)]])
        report.table("An invoice's codes", columns: ["codes", "commit s", "CSV s", "CSV bytes"],
                     rows: [[Format.grouped(made.count), String(format: "%.3f", commitSeconds), String(format: "%.3f", csvSeconds),
                             Format.grouped(csv.utf8.count)]])
        report.target("redemptions", "≥ 3,000/s with p99 ≤ 30 ms", measured: "\(Format.rate(rate))/s, p99 \(Format.ms(latency.p99)) ms",
                      pass: rate >= 3000 && latency.p99 <= 30)
        report.target("every redemption has its job", "enroll jobs ≥ redemptions", measured: "\(enrollJobs) jobs",
                      pass: enrollJobs >= measured.latencies.count && measured.errors == 0)
        report.target("an invoice of \(Format.grouped(invoice)) codes", "≤ 2 s, commit and CSV",
                      measured: String(format: "%.2f s", commitSeconds + csvSeconds), pass: commitSeconds + csvSeconds <= 2)
        report.wallSeconds = elapsedSeconds(since: began)
        report.data = Result(redemptionsPerSecond: rate, redeemed: measured.latencies.count, errors: measured.errors, latency: latency,
                             enrollJobs: enrollJobs, invoiceCodes: made.count, invoiceCommitSeconds: commitSeconds,
                             invoiceCSVSeconds: csvSeconds, invoiceCSVBytes: csv.utf8.count)
        try report.publish(jsonPath: common.jsonPath("redeem"))
    }
}

/// Request n redeems the n-th code for its own learner, with the storefront's token.
struct RedemptionRequests: LoadRequests {
    let codes: [String]
    let token: String

    func path(_ n: Int) -> String? { "/api/v1/codes/\(codes[min(n, codes.count - 1)])/redemptions" }
    func body(orderID n: Int) -> [UInt8] { Array(#"{"email":"learner\#(n)@bench.example.com"}"#.utf8) }
    func headers(orderID n: Int, body: [UInt8]) -> HTTPHeaders {
        ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]
    }
}
