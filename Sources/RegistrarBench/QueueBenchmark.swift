import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore

/// `queue`: the store's job queue alone, on each backend side by side in one run: SQLite, one PostgreSQL
/// instance, and two PostgreSQL instances (two connection pools on one database, as two `serve` processes have).
/// Enqueue is intake's commit (a delivery and its job, durable before it returns) from many concurrent callers;
/// drain is workers claiming and finishing with no handler. No HTTP, so the figures are the stores'.
struct QueueBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Enqueue (delivery + job per commit) and drain (claim + finish) on SQLite, PostgreSQL and two PostgreSQL instances."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "A PostgreSQL server to create the benchmark's databases on: postgres://user@host:port/postgres?sslmode=disable.")
    var database: String
    @Option(help: "Jobs enqueued, then drained, per backend.") var jobs = 20_000
    @Option(help: "Concurrent enqueue callers (as concurrent webhook deliveries).") var callers = 64
    @Option(help: "Workers claiming and finishing, across all instances.") var workers = 16

    func validate() throws {
        guard (100...1_000_000).contains(jobs) else { throw ValidationError("--jobs must be 100…1,000,000") }
        guard (1...1024).contains(callers) else { throw ValidationError("--callers must be 1…1024") }
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be 1…256") }
    }

    struct Result: Encodable {
        var backend: String
        var enqueuePerSecond: Double
        var enqueueLatency: LatencyStats
        var drainPerSecond: Double
        var succeeded: Int
    }

    func run() async throws {
        let began = ContinuousClock.now
        var report = Report(scenario: "queue")
        let server = try PostgresURL.parse(database)
        let work = try WorkDirectory(parent: common.workDir, scenario: "queue", keep: common.keep)
        var jobsConfig = JobsConfig()
        jobsConfig.concurrency = workers
        let options = StoreOptions(jobs: jobsConfig)
        report.set("jobs", "\(Format.grouped(jobs)) per backend, each on its own serial key (as distinct learners)")
        report.set("enqueue", "\(callers) concurrent callers, one delivery + one job per commit (intake's durable write)")
        report.set("drain", "\(workers) workers: claim(limit 1) → finish(success, then claim 1), no handler")
        report.set("SQLite", "WAL, synchronous=FULL, group commit")
        report.set("PostgreSQL", "\(server.host):\(server.port), synchronous_commit=on, READ COMMITTED, pools of 20 connections")

        var results: [Result] = []
        let sqlite = try SQLiteStore(path: work.file("registrar.sqlite"), options: options)
        results.append(try await measure("SQLite", stores: [sqlite]))
        try sqlite.close()
        for count in [1, 2] {
            let url = try await BenchBackend.newDatabase("queue_\(count)", on: server)
            let stores = try await BenchBackend.instances(count, on: url, options: options)
            results.append(try await measure(count == 1 ? "PostgreSQL" : "PostgreSQL × 2 instances", stores: stores))
            stores.forEach { $0.close() }
        }
        report.table("Queue", columns: ["backend", "enqueue/s", "enqueue p50", "p99", "max", "drain jobs/s", "succeeded"],
                     rows: results.map { r in
                         [r.backend, Format.rate(r.enqueuePerSecond), Format.ms(r.enqueueLatency.p50), Format.ms(r.enqueueLatency.p99),
                          Format.ms(r.enqueueLatency.max), Format.rate(r.drainPerSecond), Format.grouped(r.succeeded)]
                     })
        for r in results {
            report.target("\(r.backend): every job run once", "\(jobs) succeeded", measured: "\(r.succeeded)", pass: r.succeeded == jobs)
        }
        report.wallSeconds = elapsedSeconds(since: began)
        report.data = results
        try report.publish(jsonPath: common.jsonPath("queue"))
    }

    /// Enqueues through the stores in turn, then drains with the workers spread over them.
    private func measure(_ backend: String, stores: [any JobQueue]) async throws -> Result {
        print("queue: \(backend)…")
        let count = jobs
        let callers = self.callers
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for caller in 0..<callers {
                let store = stores[caller % stores.count]
                group.addTask {
                    var samples: [Duration] = []
                    for index in stride(from: caller, to: count, by: callers) {
                        let begin = ContinuousClock.now
                        _ = try await store.enqueue([NewJob(kind: .enroll, dedupeKey: "bench:queue:\(index)",
                                                            serialKey: "learner\(index)@bench.example.com|course-v1:Bench+Q+1",
                                                            payload: #"{"email":"learner\#(index)@bench.example.com"}"#, source: "bench")],
                                                    delivery: NewDelivery(source: "bench", body: Array(#"{"id":\#(index)}"#.utf8),
                                                                          verdict: "accepted", httpStatus: 200))
                        samples.append(ContinuousClock.now - begin)
                    }
                    return samples
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let enqueueSeconds = elapsedSeconds(since: started)
        let drainStarted = ContinuousClock.now
        let workers = self.workers
        let succeeded = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                let store = stores[worker % stores.count]
                group.addTask {
                    var done = 0
                    var next = try await store.claim(owner: "bench-\(worker)", limit: 1)
                    while let claimed = next.first {
                        let finished = try await store.finish(claimed, outcome: .success(), thenClaim: 1)
                        if finished.state == .succeeded { done += 1 }
                        next = finished.next
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let drainSeconds = elapsedSeconds(since: drainStarted)
        return Result(backend: backend, enqueuePerSecond: Double(count) / enqueueSeconds, enqueueLatency: LatencyStats(latencies),
                      drainPerSecond: Double(succeeded) / drainSeconds, succeeded: succeeded)
    }
}
