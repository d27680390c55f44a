import ArgumentParser
import CurlHTTP
import Foundation
import Logging
import OpenEdX
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore
import RegistrarWorker
import Sandbox

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

    /// What a drain run asks of its stores.
    typealias DrainStore = JobQueue & JobOperations & LearnerCache

    func run() async throws {
        let clock = ContinuousClock.now
        let count = jobs ?? (throttle == nil ? 5000 : 180)
        let backend = database == nil ? "" : instances == 1 ? "-postgres" : "-postgres-x\(instances)"
        let scenario = (throttle.map { "drain-throttle\($0)" } ?? (latencyMs == 0 ? "drain" : "drain-latency\(latencyMs)ms")) + backend
        var report = Report(scenario: scenario)
        let course = "course-v1:Bench+Drain+2026"
        let users = (0..<count).map { SandboxSeed.User(username: "bench\($0)", email: "bench\($0)@bench.example.com") }
        let sandbox = try await startSandbox(users: users, courses: [.init(id: course, modes: ["audit", "verified"])],
                                             latency: .milliseconds(Int64(latencyMs)), throttlePerMinute: throttle)
        let work = try WorkDirectory(parent: common.workDir, scenario: scenario, keep: common.keep)
        var jobsConfig = JobsConfig()
        jobsConfig.concurrency = concurrency
        let stores: [any DrainStore]
        let closeStores: () throws -> Void
        if let database {
            let url = try await PostgresAdmin.createDatabase("bench_drain_" + UUID().uuidString.prefix(8).lowercased(),
                                                             on: try PostgresURL.parse(database))
            _ = try await PostgresStore.migrate(url)
            var opened: [PostgresStore] = []
            for _ in 0..<instances { opened.append(try await PostgresStore.open(url, options: StoreOptions(jobs: jobsConfig))) }
            stores = opened
            closeStores = { opened.forEach { $0.close() } }
        } else {
            let sqlite = try SQLiteStore(path: work.file("registrar.sqlite"), options: StoreOptions(jobs: jobsConfig))
            stores = [sqlite]
            closeStores = { try sqlite.close() }
        }
        let store = stores[0]

        if !coldLearners {
            // All at once: the group-committing writer takes them in a few transactions.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for user in users { group.addTask { try await store.cacheUsername(user.username, email: user.email) } }
                try await group.waitForAll()
            }
        }
        let newJobs = try users.enumerated().map { index, user in
            try NewJob(kind: .enroll, dedupeKey: "bench:drain:\(index)",
                       serialKey: SerialKey.enrollment(email: user.email, courseID: course),
                       payload: EnrollPayload(email: user.email, courseID: course, mode: "verified", orderReference: "bench-\(index)"),
                       source: "bench")
        }
        _ = try await store.enqueue(newJobs)

        // Without a throttle the client's pacing is lifted so the figure is the pipeline's, not the pacer's.
        let requestsPerMinute = throttle ?? 6_000_000
        var http = HTTPClientConfiguration()
        http.maxConnections = max(64, concurrency)
        let client = CurlHTTPClient(configuration: http)
        defer { client.shutdown() }
        let openedx = OpenEdXClient(settings: OpenEdXSettings(lmsURL: sandbox.baseURL, studioURL: sandbox.baseURL,
                                                              clientID: "registrar-worker", clientSecret: Secret("sandbox-secret"),
                                                              requestsPerMinute: requestsPerMinute),
                                    http: client)
        let logger = FileLogHandler.logger(label: "registrar", path: work.file("registrar.log"), level: .info)
        let pools = stores.enumerated().map { index, store in
            var registry = HandlerRegistry()
            registry.register(.enroll, EnrollHandler(store: store, client: openedx, unknownLearner: .allow))
            // The workers split between the instances; the first takes the odd one.
            let share = concurrency / stores.count + (index < concurrency % stores.count ? 1 : 0)
            return WorkerPool(store: store, registry: registry, options: .init(concurrency: max(1, share), pollInterval: .seconds(1)),
                              logger: logger)
        }

        report.set("jobs", "\(Format.grouped(count)) enroll jobs queued before the workers start (one transaction), distinct learners")
        report.set("workers", "\(concurrency) (WorkerPool: claim → EnrollHandler → OpenEdXClient → CurlHTTPClient → finish)")
        report.set("sandbox", "in this process; latency \(latencyMs) ms per API answer; throttle \(throttle.map { "\($0)/min (sliding 60 s)" } ?? "off")")
        report.set("client pacing", throttle.map { "\($0) requests/min (openedx.requests_per_minute)" } ?? "lifted (6,000,000/min)")
        report.set("learners", coldLearners ? "not cached: account lookup + enroll per job" : "usernames cached: one enroll call per job")
        if database != nil {
            report.set("store", "PostgreSQL (new database), synchronous_commit=on, \(instances) instance\(instances == 1 ? "" : "s, workers split between them"); claim and finish each commit")
        } else {
            report.set("store", "SQLite, WAL, synchronous=FULL, group commit on; claim and finish each commit")
        }
        print("drain: \(count) jobs, \(concurrency) workers, latency \(latencyMs) ms\(throttle.map { ", throttle \($0)/min" } ?? "")…")

        let started = Date()
        let startInstant = ContinuousClock.now
        let running = pools.map { pool in Task { try await pool.run() } }
        let deadline = startInstant + .milliseconds(Int64(timeoutSeconds * 1000))
        var finished = false
        var lastPrint = startInstant
        // Reads that saw fewer jobs than were committed before the workers started: read-your-writes broken.
        var staleReads = 0
        while ContinuousClock.now < deadline {
            // Counted from the kind/state index: cheap enough to ask often without taking CPU from the workers.
            let stats = try await store.stats()
            let (open, total) = (stats.total(state: .queued) + stats.total(state: .running), stats.total)
            if total < count { staleReads += 1 }
            if open == 0 && total >= count { finished = true; break }
            if ContinuousClock.now - lastPrint > .seconds(10) {
                print("  \(count - open)/\(count) done after \(Int(elapsedSeconds(since: startInstant))) s")
                lastPrint = .now
            }
            try await Task.sleep(for: .milliseconds(throttle == nil ? 50 : 250))
        }
        pools.forEach { $0.stop() }
        for task in running { try await task.value }

        // Every job with its attempts, read through the store's operations after the run.
        let details = try await withThrowingTaskGroup(of: JobDetail?.self) { group in
            for job in try await store.jobs(JobFilter(limit: count + 100)) {
                group.addTask { try await store.jobDetail(id: job.id) }
            }
            return try await group.reduce(into: [JobDetail]()) { if let detail = $1 { $0.append(detail) } }
        }
        let rows = details.map { detail in
            DrainJob(key: detail.job.dedupeKey, state: detail.job.state.rawValue, attempts: detail.job.attempts,
                     created: detail.job.createdAt, finished: detail.job.finishedAt,
                     lastStarted: detail.attempts.map(\.startedAt).max())
        }
        let timeline = details.flatMap { detail in
            detail.attempts.filter { $0.outcome == "succeeded" }
                .map { (worker: $0.worker, started: $0.startedAt, finished: detail.job.finishedAt) }
        }.sorted { ($0.worker, $0.started) < ($1.worker, $1.started) }
        let ledger = await sandbox.ledger()
        let stats = await sandbox.stats()
        await sandbox.stop()
        try closeStores()

        var result = DrainResult.compute(jobs: rows, ledger: ledger, stats: stats, started: started, count: count,
                                         finished: finished)
        result.staleReads = staleReads
        result.addWorkerGaps(timeline)
        report.table("Drain", columns: ["figure", "value"], rows: result.rows(concurrency: concurrency, latencyMs: latencyMs))
        if !finished { report.note("the backlog was not worked off within \(timeoutSeconds) s") }
        if staleReads > 0 {
            report.note("\(staleReads) stats() calls saw fewer than the \(count) jobs committed before the workers started (stale snapshot; see BENCHMARKS.md)")
        }

        let succeeded = result.succeeded == count && result.ledgerEntries == count
        report.target("every job succeeded, one enrollment each", "\(count) jobs, \(count) ledger entries",
                      measured: "\(result.succeeded) succeeded, \(result.ledgerEntries) ledger entries", pass: succeeded)
        if let throttle {
            // Enroll calls are timed by the ledger; with --cold-learners each job also makes a lookup at the same pace.
            let achieved = (result.callsPerMinute ?? 0) * max(1, result.callsPerJob)
            let off = abs(achieved - Double(throttle)) / Double(throttle)
            report.target("pace vs throttle", "within 2 % of \(throttle)/min", measured: String(format: "%.1f/min (%+.1f %%)", achieved, (achieved / Double(throttle) - 1) * 100),
                          pass: off <= 0.02)
            let limit = max(1, result.apiCalls / 100)
            report.target("no 429 storm", "≤ \(limit) 429s (1 % of calls)", measured: "\(result.throttled) 429s of \(result.apiCalls + result.throttled) calls",
                          pass: result.throttled <= limit)
        } else if latencyMs == 0 {
            report.target("throughput at 0 ms", "≥ 1,000 jobs/s", measured: Format.rate(result.jobsPerSecond) + " jobs/s",
                          pass: result.jobsPerSecond >= 1000)
        } else {
            let ideal = result.ideal(concurrency: concurrency, latencyMs: latencyMs)
            report.target("throughput at \(latencyMs) ms", "≥ 90 % of concurrency/(calls per job × latency) = \(Format.rate(ideal))/s",
                          measured: "\(Format.rate(result.jobsPerSecond)) jobs/s = \(Format.percent(result.jobsPerSecond / ideal))",
                          pass: result.jobsPerSecond >= 0.9 * ideal)
        }
        report.wallSeconds = elapsedSeconds(since: clock)
        report.data = result
        try report.publish(jsonPath: common.jsonPath(scenario))
    }
}
