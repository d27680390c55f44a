import ArgumentParser
import Foundation
import RegistrarCore

/// `drain`: a backlog of enroll jobs worked off by the real worker pool, EnrollHandler, OpenEdXClient and
/// libcurl client against the sandbox, all in this process. With `--throttle` the sandbox enforces the LMS's
/// staff throttle and the client paces itself at the same rate, the production set-up. With `--database` the
/// store is a new PostgreSQL database instead of a SQLite file, and `--instances 2` splits the workers over two
/// stores on it (two connection pools, as two `serve` processes have).
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Jobs per second through workers + Open edX client + sandbox; end-to-end latency; pacing under a throttle."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Queued enroll jobs (default 5000; 180 with --throttle).")
    var jobs: Int?
    @Option(help: "Latency the sandbox adds to every Open edX API answer, in milliseconds.")
    var latencyMs = 0
    @Option(help: "Workers (jobs.concurrency).")
    var concurrency = 16
    @Option(help: "Sandbox staff throttle per minute; the client is paced at the same rate (openedx.requests_per_minute).")
    var throttle: Int?
    @Flag(help: "Learners not yet in the username cache: every job looks the account up first (two calls instead of one).")
    var coldLearners = false
    @Option(help: "Give up waiting for the backlog after this many seconds.")
    var timeoutSeconds = 600.0
    @Option(help: "A PostgreSQL server to run on instead of SQLite (a new database): postgres://user@host:port/postgres?sslmode=disable.")
    var database: String?
    @Option(help: "Store instances on the PostgreSQL database, the workers split between them (1 or 2; needs --database).")
    var instances = 1

    func validate() throws {
        if let jobs, !(1...1_000_000).contains(jobs) { throw ValidationError("--jobs must be 1…1,000,000") }
        guard (0...10_000).contains(latencyMs) else { throw ValidationError("--latency-ms must be 0…10000") }
        guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be 1…1024") }
        if let throttle, !(1...100_000).contains(throttle) { throw ValidationError("--throttle must be 1…100000 per minute") }
        guard (1...3600).contains(timeoutSeconds) else { throw ValidationError("--timeout-seconds must be 1…3600") }
        guard (1...2).contains(instances) else { throw ValidationError("--instances must be 1 or 2") }
        if instances > 1 && database == nil { throw ValidationError("--instances 2 needs --database") }
        // Two pools' clients pace separately here; `serve` shares the budget through the database.
        if instances > 1 && throttle != nil { throw ValidationError("--throttle runs one instance") }
    }

    func run() async throws {
        let clock = ContinuousClock.now
        let backend: BenchBackend = try database.map { .postgres(server: try PostgresURL.parse($0), instances: instances) } ?? .sqlite
        let drain = DrainRun(count: jobs ?? (throttle == nil ? 5000 : 180), latencyMs: latencyMs, concurrency: concurrency,
                             throttle: throttle, coldLearners: coldLearners, timeoutSeconds: timeoutSeconds)
        let scenario = (throttle.map { "drain-throttle\($0)" } ?? (latencyMs == 0 ? "drain" : "drain-latency\(latencyMs)ms")) + backend.suffix
        var report = Report(scenario: scenario)
        report.set("jobs", "\(Format.grouped(drain.count)) enroll jobs queued before the workers start (one transaction), distinct learners")
        report.set("workers", "\(concurrency) (WorkerPool: claim → EnrollHandler → OpenEdXClient → CurlHTTPClient → finish)")
        report.set("sandbox", "in this process; latency \(latencyMs) ms per API answer; throttle \(throttle.map { "\($0)/min (sliding 60 s)" } ?? "off")")
        report.set("client pacing", throttle.map { "\($0) requests/min (openedx.requests_per_minute)" } ?? "lifted (6,000,000/min)")
        report.set("learners", coldLearners ? "not cached: account lookup + enroll per job" : "usernames cached: one enroll call per job")
        report.set("store", DrainRun.storeDescription(backend))
        let work = try WorkDirectory(parent: common.workDir, scenario: scenario, keep: common.keep)
        let result = try await drain.measure(on: backend, work: work)
        report.table("Drain", columns: ["figure", "value"], rows: result.rows(concurrency: concurrency, latencyMs: latencyMs))
        report.notes += drain.notes(result)

        report.targets += drain.targets(result)
        report.wallSeconds = elapsedSeconds(since: clock)
        report.data = result
        try report.publish(jsonPath: common.jsonPath(scenario))
    }
}
