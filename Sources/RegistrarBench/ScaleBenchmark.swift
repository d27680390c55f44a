import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore

/// `scale`: does a job's claim and finish stay as fast with a million jobs in the table as with ten thousand?
/// The table is filled in steps (10k → 100k → 1M) with history shaped like production's — mostly succeeded,
/// some failed, some queued waiting out a backoff — then the same enqueue → claim → finish cycle is timed. With
/// `--database` the table is in a new PostgreSQL database instead of a SQLite file.
struct ScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "claim + finish latency with 10k, 100k and 1M jobs already in the table."
    )

    @OptionGroup var common: CommonOptions
    @Option(parsing: .upToNextOption, help: "Table sizes to measure at, ascending.")
    var sizes: [Int] = [10_000, 100_000, 1_000_000]
    @Option(help: "Skip sizes above this.")
    var max = 1_000_000
    @Option(help: "Measured enqueue → claim → finish cycles per size.")
    var cycles = 1000
    @Option(help: "Cycles run before measuring at each size (not counted).")
    var warmupCycles = 20
    @Option(help: "A PostgreSQL server to run on instead of SQLite (a new database): postgres://user@host:port/postgres?sslmode=disable.")
    var database: String?

    func validate() throws {
        guard (1...10_000_000).contains(max) else { throw ValidationError("--max must be 1…10,000,000") }
        guard sizes.allSatisfy({ (1...10_000_000).contains($0) }), !sizes.isEmpty else {
            throw ValidationError("--sizes must be 1…10,000,000")
        }
        guard (10...100_000).contains(cycles) else { throw ValidationError("--cycles must be 10…100,000") }
        guard (0...10_000).contains(warmupCycles) else { throw ValidationError("--warmup-cycles must be 0…10,000") }
    }

    func run() async throws {
        let clock = ContinuousClock.now
        var report = Report(scenario: "scale")
        let levels = sizes.filter { $0 <= max }.sorted()
        guard !levels.isEmpty else { throw ValidationError("no size ≤ --max \(max)") }
        let work = try WorkDirectory(parent: common.workDir, scenario: "scale", keep: common.keep)
        let store: any ScaleStore
        if let database {
            let url = try await PostgresAdmin.createDatabase("bench_scale_" + UUID().uuidString.prefix(8).lowercased(),
                                                             on: try PostgresURL.parse(database))
            _ = try await PostgresStore.migrate(url)
            store = try await PostgresStore.open(url, options: StoreOptions(jobs: JobsConfig()))
        } else {
            store = try SQLiteStore(path: work.file("registrar.sqlite"), options: StoreOptions(jobs: JobsConfig()))
        }

        report.set("sizes", levels.map(Format.grouped).joined(separator: ", ") + " jobs in the table")
        report.set("history", "95 % succeeded, 2 % failed, 3 % queued in backoff (due in a day); 50 course runs; spread over 30 days")
        report.set("cycle", "enqueue 1 job → claim(limit 1) → finish(success), one caller, \(cycles) cycles (+\(warmupCycles) warm-up) per size")
        if database != nil {
            report.set("store", "PostgreSQL (new database), synchronous_commit=on: every enqueue, claim and finish is a flushed commit")
            report.set("fill", "one INSERT … SELECT over generate_series per step, in one transaction; VACUUM ANALYZE and CHECKPOINT before measuring")
        } else {
            report.set("store", "SQLite, WAL, synchronous=FULL: every enqueue, claim and finish is a flushed commit")
            report.set("fill", "one INSERT … SELECT over a recursive CTE per step, in one transaction; WAL checkpointed (TRUNCATE) before measuring")
        }

        var steps: [ScaleStep] = []
        var inTable = 0
        var fresh = 0
        for level in levels {
            let add = level - inTable
            let fillStart = ContinuousClock.now
            if add > 0 {
                try await store.benchmarkFillHistory(from: inTable + 1, through: level)
            }
            try await store.benchmarkCheckpoint()
            let fillSeconds = elapsedSeconds(since: fillStart)
            inTable = level
            print("scale: \(Format.grouped(level)) jobs in the table (filled in \(String(format: "%.1f", fillSeconds)) s); measuring…")

            var enqueue: [Double] = [], claim: [Double] = [], finish: [Double] = [], cycle: [Double] = []
            for index in 0..<(warmupCycles + cycles) {
                fresh += 1
                let job = try NewJob(kind: .enroll, dedupeKey: "bench:scale:\(fresh)",
                                     serialKey: "fresh\(fresh)@bench.example.com|course-v1:Bench+Scale+0",
                                     payload: EnrollPayload(email: "fresh\(fresh)@bench.example.com",
                                                            courseID: "course-v1:Bench+Scale+0", mode: "verified"),
                                     source: "bench")
                let t0 = ContinuousClock.now
                _ = try await store.enqueue([job])
                let t1 = ContinuousClock.now
                let claimed = try await store.claim(owner: "bench:scale", limit: 1)
                let t2 = ContinuousClock.now
                guard let first = claimed.first else { throw BenchError("claim found nothing at \(level) jobs") }
                guard first.job.dedupeKey == job.dedupeKey else {
                    throw BenchError("claim took \(first.job.dedupeKey), not the job just enqueued")
                }
                try await store.finish(first, outcome: .success(detail: "enrolled", httpStatus: 200))
                let t3 = ContinuousClock.now
                if index >= warmupCycles {
                    enqueue.append((t1 - t0).inMilliseconds)
                    claim.append((t2 - t1).inMilliseconds)
                    finish.append((t3 - t2).inMilliseconds)
                    cycle.append((t3 - t1).inMilliseconds)
                }
            }
            let size = Int(try await store.footprint().databaseBytes)
            steps.append(ScaleStep(jobsInTable: level, fillSeconds: fillSeconds, databaseBytes: size,
                                   enqueue: LatencyStats(milliseconds: enqueue), claim: LatencyStats(milliseconds: claim),
                                   finish: LatencyStats(milliseconds: finish), claimAndFinish: LatencyStats(milliseconds: cycle)))
        }
        try store.closeForBenchmark()

        report.table("Latency per call, ms (p50 / p99)",
                     columns: ["jobs in table", "claim", "finish", "claim + finish", "claim + finish max", "enqueue", "db size", "fill time"],
                     rows: steps.map { step in
                         [Format.grouped(step.jobsInTable),
                          "\(Format.ms(step.claim.p50)) / \(Format.ms(step.claim.p99))",
                          "\(Format.ms(step.finish.p50)) / \(Format.ms(step.finish.p99))",
                          "\(Format.ms(step.claimAndFinish.p50)) / \(Format.ms(step.claimAndFinish.p99))",
                          Format.ms(step.claimAndFinish.max),
                          "\(Format.ms(step.enqueue.p50)) / \(Format.ms(step.enqueue.p99))",
                          String(format: "%.0f MiB", Double(step.databaseBytes) / 1_048_576),
                          String(format: "%.1f s", step.fillSeconds)]
                     })
        if let first = steps.first, let last = steps.last, steps.count > 1 {
            let p50 = last.claimAndFinish.p50 / first.claimAndFinish.p50
            let p99 = last.claimAndFinish.p99 / first.claimAndFinish.p99
            let name = "\(Format.grouped(last.jobsInTable)) vs \(Format.grouped(first.jobsInTable))"
            report.target("claim+finish p50 \(name)", "≤ 2×", measured: String(format: "%.2f×", p50), pass: p50 <= 2)
            report.target("claim+finish p99 \(name)", "≤ 2×", measured: String(format: "%.2f×", p99), pass: p99 <= 2)
        }
        report.wallSeconds = elapsedSeconds(since: clock)
        report.data = steps
        try report.publish(jsonPath: common.jsonPath("scale"))
    }
}

struct ScaleStep: Codable, Sendable {
    var jobsInTable: Int
    var fillSeconds: Double
    var databaseBytes: Int
    var enqueue: LatencyStats
    var claim: LatencyStats
    var finish: LatencyStats
    var claimAndFinish: LatencyStats
}

/// What `scale` asks of a store: the queue, its size, and the benchmark's bulk fill.
protocol ScaleStore: JobQueue, StoreHealth {
    func benchmarkFillHistory(from: Int, through: Int) async throws
    func benchmarkCheckpoint() async throws
    func closeForBenchmark() throws
}

extension SQLiteStore: ScaleStore {
    func closeForBenchmark() throws { try close() }
}

extension PostgresStore: ScaleStore {
    func closeForBenchmark() throws { close() }
}
