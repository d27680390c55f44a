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

/// One drain: a backlog of enroll jobs worked off by the real worker pool, EnrollHandler, OpenEdXClient and libcurl
/// client against a sandbox of its own, all in this process, on a new store. `drain` reports one; `compare` puts
/// one per backend side by side.
struct DrainRun: Sendable {
    var count: Int
    var latencyMs: Int
    var concurrency: Int
    var throttle: Int?
    var coldLearners: Bool
    var timeoutSeconds: Double

    /// What a drain run asks of its stores.
    typealias DrainStore = JobQueue & JobOperations & LearnerCache

    static func storeDescription(_ backend: BenchBackend) -> String {
        switch backend {
        case .sqlite:
            "SQLite, WAL, synchronous=FULL, group commit on; claim and finish each commit"
        case .postgres(_, let instances):
            "PostgreSQL (new database), synchronous_commit=on, \(instances) instance\(instances == 1 ? "" : "s, workers split between them"); claim and finish each commit"
        }
    }

    func measure(on backend: BenchBackend, work: WorkDirectory) async throws -> DrainResult {
        let course = "course-v1:Bench+Drain+2026"
        let users = (0..<count).map { SandboxSeed.User(username: "bench\($0)", email: "bench\($0)@bench.example.com") }
        let sandbox = try await startSandbox(users: users, courses: [.init(id: course, modes: ["audit", "verified"])],
                                             latency: .milliseconds(Int64(latencyMs)), throttlePerMinute: throttle)
        var jobsConfig = JobsConfig()
        jobsConfig.concurrency = concurrency
        let stores: [any DrainStore]
        let closeStores: () throws -> Void
        switch backend {
        case .postgres(let server, let instances):
            let opened = try await BenchBackend.instances(instances, on: try await BenchBackend.newDatabase("drain", on: server),
                                                          options: StoreOptions(jobs: jobsConfig))
            stores = opened
            closeStores = { opened.forEach { $0.close() } }
        case .sqlite:
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
            let share = concurrency.share(index, of: stores.count)
            return WorkerPool(store: store, registry: registry, options: .init(concurrency: max(1, share), pollInterval: .seconds(1)),
                              logger: logger)
        }
        print("drain (\(backend.label)): \(count) jobs, \(concurrency) workers, latency \(latencyMs) ms\(throttle.map { ", throttle \($0)/min" } ?? "")…")

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
        return result
    }

    /// What a drain must show: every job done once, and the speed its settings ask for.
    func targets(_ result: DrainResult) -> [Report.Target] {
        var targets = [Report.Target(name: "every job succeeded, one enrollment each", target: "\(count) jobs, \(count) ledger entries",
                                     measured: "\(result.succeeded) succeeded, \(result.ledgerEntries) ledger entries",
                                     pass: result.succeeded == count && result.ledgerEntries == count)]
        if let throttle {
            // Enroll calls are timed by the ledger; with --cold-learners each job also makes a lookup at the same pace.
            let achieved = (result.callsPerMinute ?? 0) * max(1, result.callsPerJob)
            let off = abs(achieved - Double(throttle)) / Double(throttle)
            targets.append(Report.Target(name: "pace vs throttle", target: "within 2 % of \(throttle)/min",
                                         measured: String(format: "%.1f/min (%+.1f %%)", achieved, (achieved / Double(throttle) - 1) * 100),
                                         pass: off <= 0.02))
            let limit = max(1, result.apiCalls / 100)
            targets.append(Report.Target(name: "no 429 storm", target: "≤ \(limit) 429s (1 % of calls)",
                                         measured: "\(result.throttled) 429s of \(result.apiCalls + result.throttled) calls",
                                         pass: result.throttled <= limit))
        } else if latencyMs == 0 {
            targets.append(Report.Target(name: "throughput at 0 ms", target: "≥ 1,000 jobs/s", measured: Format.rate(result.jobsPerSecond) + " jobs/s",
                                         pass: result.jobsPerSecond >= 1000))
        } else {
            let ideal = result.ideal(concurrency: concurrency, latencyMs: latencyMs)
            targets.append(Report.Target(name: "throughput at \(latencyMs) ms",
                                         target: "≥ 90 % of concurrency/(calls per job × latency) = \(Format.rate(ideal))/s",
                                         measured: "\(Format.rate(result.jobsPerSecond)) jobs/s = \(Format.percent(result.jobsPerSecond / ideal))",
                                         pass: result.jobsPerSecond >= 0.9 * ideal))
        }
        return targets
    }

    /// What went wrong beside the figures.
    func notes(_ result: DrainResult) -> [String] {
        var notes: [String] = []
        if !result.finished { notes.append("the backlog was not worked off within \(timeoutSeconds) s") }
        if result.staleReads > 0 {
            notes.append("\(result.staleReads) stats() calls saw fewer than the \(count) jobs committed before the workers started (stale snapshot; see BENCHMARKS.md)")
        }
        return notes
    }
}
