import ArgumentParser
import Foundation
import RegistrarCore

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
        let backend: BenchBackend = try database.map { .postgres(server: try PostgresURL.parse($0), instances: 1) } ?? .sqlite
        let scale = ScaleRun(levels: levels, cycles: cycles, warmupCycles: warmupCycles)
        report.set("sizes", levels.map(Format.grouped).joined(separator: ", ") + " jobs in the table")
        report.set("history", "95 % succeeded, 2 % failed, 3 % queued in backoff (due in a day); 50 course runs; spread over 30 days")
        report.set("cycle", "enqueue 1 job → claim(limit 1) → finish(success), one caller, \(cycles) cycles (+\(warmupCycles) warm-up) per size")
        report.set("store", ScaleRun.storeDescription(backend))
        report.set("fill", ScaleRun.fillDescription(backend))

        let work = try WorkDirectory(parent: common.workDir, scenario: "scale", keep: common.keep)
        let steps = try await scale.measure(on: backend, work: work)
        report.table("Latency per call, ms (p50 / p99)",
                     columns: ["jobs in table", "claim", "finish", "claim + finish", "claim + finish max", "enqueue", "db size", "fill time"],
                     rows: steps.map { step in
                         [Format.grouped(step.jobsInTable),
                          "\(Format.ms(step.claim.p50)) / \(Format.ms(step.claim.p99))",
                          "\(Format.ms(step.finish.p50)) / \(Format.ms(step.finish.p99))",
                          "\(Format.ms(step.claimAndFinish.p50)) / \(Format.ms(step.claimAndFinish.p99))",
                          Format.ms(step.claimAndFinish.max),
                          "\(Format.ms(step.enqueue.p50)) / \(Format.ms(step.enqueue.p99))",
                          Format.mib(bytes: step.databaseBytes),
                          String(format: "%.1f s", step.fillSeconds)]
                     })
        report.targets += ScaleRun.targets(steps)
        report.wallSeconds = elapsedSeconds(since: clock)
        report.data = steps
        try report.publish(jsonPath: common.jsonPath("scale"))
    }
}
