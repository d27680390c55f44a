import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore

/// One scale run: the job table filled in steps with history shaped like production's, and at each step the same
/// enqueue → claim → finish cycle timed. On two PostgreSQL instances the job is enqueued through the first and
/// claimed and finished through the second, as a job taken in by one `serve` is worked by another.
struct ScaleRun: Sendable {
    var levels: [Int]
    var cycles: Int
    var warmupCycles: Int

    static func storeDescription(_ backend: BenchBackend) -> String {
        switch backend {
        case .sqlite:
            "SQLite, WAL, synchronous=FULL: every enqueue, claim and finish is a flushed commit"
        case .postgres(_, let instances):
            "PostgreSQL (new database), synchronous_commit=on: every enqueue, claim and finish is a flushed commit"
                + (instances > 1 ? "; enqueued through one instance, claimed and finished through the other" : "")
        }
    }

    static func fillDescription(_ backend: BenchBackend) -> String {
        switch backend {
        case .sqlite: "one INSERT … SELECT over a recursive CTE per step, in one transaction; WAL checkpointed (TRUNCATE) before measuring"
        case .postgres: "one INSERT … SELECT over generate_series per step, in one transaction; VACUUM ANALYZE and CHECKPOINT before measuring"
        }
    }

    func measure(on backend: BenchBackend, work: WorkDirectory) async throws -> [ScaleStep] {
        let stores: [any ScaleStore]
        switch backend {
        case .postgres(let server, let instances):
            stores = try await BenchBackend.instances(instances, on: try await BenchBackend.newDatabase("scale", on: server),
                                                      options: StoreOptions(jobs: JobsConfig()))
        case .sqlite:
            stores = [try SQLiteStore(path: work.file("registrar.sqlite"), options: StoreOptions(jobs: JobsConfig()))]
        }
        let (intake, worker) = (stores[0], stores[stores.count - 1])

        var steps: [ScaleStep] = []
        var inTable = 0
        var fresh = 0
        for level in levels {
            let add = level - inTable
            let fillStart = ContinuousClock.now
            if add > 0 {
                try await intake.benchmarkFillHistory(from: inTable + 1, through: level)
            }
            try await intake.benchmarkCheckpoint()
            let fillSeconds = elapsedSeconds(since: fillStart)
            inTable = level
            print("scale (\(backend.label)): \(Format.grouped(level)) jobs in the table (filled in \(String(format: "%.1f", fillSeconds)) s); measuring…")

            var enqueue: [Double] = [], claim: [Double] = [], finish: [Double] = [], cycle: [Double] = []
            for index in 0..<(warmupCycles + cycles) {
                fresh += 1
                let job = try NewJob(kind: .enroll, dedupeKey: "bench:scale:\(fresh)",
                                     serialKey: "fresh\(fresh)@bench.example.com|course-v1:Bench+Scale+0",
                                     payload: EnrollPayload(email: "fresh\(fresh)@bench.example.com",
                                                            courseID: "course-v1:Bench+Scale+0", mode: "verified"),
                                     source: "bench")
                let t0 = ContinuousClock.now
                _ = try await intake.enqueue([job])
                let t1 = ContinuousClock.now
                let claimed = try await worker.claim(owner: "bench:scale", limit: 1)
                let t2 = ContinuousClock.now
                guard let first = claimed.first else { throw BenchError("claim found nothing at \(level) jobs") }
                guard first.job.dedupeKey == job.dedupeKey else {
                    throw BenchError("claim took \(first.job.dedupeKey), not the job just enqueued")
                }
                try await worker.finish(first, outcome: .success(detail: "enrolled", httpStatus: 200))
                let t3 = ContinuousClock.now
                if index >= warmupCycles {
                    enqueue.append((t1 - t0).inMilliseconds)
                    claim.append((t2 - t1).inMilliseconds)
                    finish.append((t3 - t2).inMilliseconds)
                    cycle.append((t3 - t1).inMilliseconds)
                }
            }
            let size = Int(try await intake.footprint().databaseBytes)
            steps.append(ScaleStep(jobsInTable: level, fillSeconds: fillSeconds, databaseBytes: size,
                                   enqueue: LatencyStats(milliseconds: enqueue), claim: LatencyStats(milliseconds: claim),
                                   finish: LatencyStats(milliseconds: finish), claimAndFinish: LatencyStats(milliseconds: cycle)))
        }
        for store in stores { try store.closeForBenchmark() }
        return steps
    }

    /// A queue that slows down as its history grows fails these: claim + finish at the largest size within twice
    /// the smallest's.
    static func targets(_ steps: [ScaleStep], label: String? = nil) -> [Report.Target] {
        guard let first = steps.first, let last = steps.last, steps.count > 1 else { return [] }
        let p50 = last.claimAndFinish.p50 / first.claimAndFinish.p50
        let p99 = last.claimAndFinish.p99 / first.claimAndFinish.p99
        let name = "\(Format.grouped(last.jobsInTable)) vs \(Format.grouped(first.jobsInTable))" + (label.map { ", \($0)" } ?? "")
        return [Report.Target(name: "claim+finish p50 \(name)", target: "≤ 2×", measured: String(format: "%.2f×", p50), pass: p50 <= 2),
                Report.Target(name: "claim+finish p99 \(name)", target: "≤ 2×", measured: String(format: "%.2f×", p99), pass: p99 <= 2)]
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
