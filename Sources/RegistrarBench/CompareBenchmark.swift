import ArgumentParser
import Foundation
import RegistrarCore

/// `compare`: intake, drain and scale on SQLite, on PostgreSQL, and on two instances sharing one PostgreSQL
/// database, in one run and one table, so the three are measured on the same machine in the same state. Each run
/// is the one its own scenario makes (`intake --runs serve serve-postgres serve-postgres-x2`, `drain`, `scale`),
/// each on a new database.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "intake, drain and scale side by side: SQLite vs PostgreSQL vs two instances on one PostgreSQL database."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var load: IntakeLoadOptions
    @Option(help: "The PostgreSQL server (a new database per run): postgres://user@host:port/postgres?sslmode=disable.")
    var database: String
    @Option(help: "Queued enroll jobs per drain.")
    var drainJobs = 5000
    @Option(help: "Latency the sandbox adds to every Open edX API answer during the drains, in milliseconds.")
    var drainLatencyMs = 0
    @Option(help: "Workers per drain (split between the instances on two).")
    var concurrency = 16
    @Option(parsing: .upToNextOption, help: "Job table sizes the scale runs measure at, ascending.")
    var scaleSizes: [Int] = [10_000, 100_000]
    @Option(help: "Measured enqueue → claim → finish cycles per size.")
    var cycles = 500

    func validate() throws {
        guard (1...1_000_000).contains(drainJobs) else { throw ValidationError("--drain-jobs must be 1…1,000,000") }
        guard (0...10_000).contains(drainLatencyMs) else { throw ValidationError("--drain-latency-ms must be 0…10000") }
        guard (2...1024).contains(concurrency) else { throw ValidationError("--concurrency must be 2…1024 (two instances share it)") }
        guard scaleSizes.allSatisfy({ (1...10_000_000).contains($0) }) else { throw ValidationError("--scale-sizes must be 1…10,000,000") }
        // The scale target compares the largest size with the smallest.
        guard Set(scaleSizes).count >= 2 else { throw ValidationError("--scale-sizes needs at least two different sizes") }
        guard (10...100_000).contains(cycles) else { throw ValidationError("--cycles must be 10…100,000") }
    }

    func run() async throws {
        let clock = ContinuousClock.now
        var report = Report(scenario: "compare")
        let server = try PostgresURL.parse(database)
        let backends = BenchBackend.all(on: server)
        let webhooks = try load.fixtures.webhooks()
        let binary = try locateRegistrarBinary(load.registrar)
        let drain = DrainRun(count: drainJobs, latencyMs: drainLatencyMs, concurrency: concurrency, throttle: nil,
                             coldLearners: false, timeoutSeconds: 600)
        let scale = ScaleRun(levels: Set(scaleSizes).sorted(), cycles: cycles, warmupCycles: 20)
        report.set("intake", "\(load.connections) keep-alive connections (\(load.client.label)), \(load.measuredDescription) per run after a \(load.warmupSeconds) s warm-up; order webhooks with 2 enroll jobs each; two instances = two serves, the connections split")
        report.set("drain", "\(Format.grouped(drainJobs)) enroll jobs, \(concurrency) workers (split on two instances), Open edX latency \(drainLatencyMs) ms")
        report.set("scale", "enqueue → claim → finish, \(cycles) cycles at \(scale.levels.map(Format.grouped).joined(separator: ", ")) jobs in the table; on two instances enqueued through one, claimed and finished through the other")
        report.set("stores", "SQLite: WAL, synchronous=FULL, group commit; PostgreSQL: a new database per run, synchronous_commit=on")
        report.set("serve binary", describeBinary(binary))
        report.set("load generator", "in the bench process, on the same \(report.machine.cores) cores as the server and the database")

        let sandbox = try await startSandbox(courses: [.init(id: "course-v1:edX+DemoX+Demo_Course", modes: ["audit", "verified"]),
                                                       .init(id: "course-v1:edX+DemoX+2026", modes: ["audit"])])
        var environment = IntakeEnvironment(webhooks: webhooks, sandbox: sandbox, registrarBinary: binary,
                                            workParent: common.workDir, keep: common.keep, logLevel: load.logLevel)
        environment.postgres = server
        var intakes: [IntakeRun] = []
        for variant in [IntakeVariant.serve, .servePostgres, .servePostgresPair] {
            print("compare: intake, \(variant.rawValue)…")
            let run = try await IntakeRunner.run(variant, load: load.settings(), environment: environment)
            print("  \(Format.rate(run.load.deliveriesPerSecond)) deliveries/s, p99 \(Format.ms(run.load.latency.p99)) ms")
            intakes.append(run)
        }
        await sandbox.stop()

        var drains: [DrainResult] = []
        for backend in backends {
            let work = try WorkDirectory(parent: common.workDir, scenario: "compare-drain" + backend.suffix, keep: common.keep)
            drains.append(try await drain.measure(on: backend, work: work))
        }
        var scales: [[ScaleStep]] = []
        for backend in backends {
            let work = try WorkDirectory(parent: common.workDir, scenario: "compare-scale" + backend.suffix, keep: common.keep)
            scales.append(try await scale.measure(on: backend, work: work))
        }

        var rows: [[String]] = [
            ["intake: durable deliveries/s"] + intakes.map { Format.rate($0.load.deliveriesPerSecond) },
            ["intake: latency p50 / p99, ms"] + intakes.map { "\(Format.ms($0.load.latency.p50)) / \(Format.ms($0.load.latency.p99))" },
            ["intake: serve CPU per delivery (both serves on two)"] + intakes.map { $0.serverMicrosPerDelivery.map { String(format: "%.0f µs", $0) } ?? "?" },
            ["drain at \(drainLatencyMs) ms: jobs/s"] + drains.map { Format.rate($0.jobsPerSecond) },
            ["drain: one job's attempt p50 / p99, ms"] + drains.map { "\(Format.ms($0.attempt.p50)) / \(Format.ms($0.attempt.p99))" },
        ]
        for (index, level) in scale.levels.enumerated() {
            rows.append(["scale at \(Format.grouped(level)) jobs: claim + finish p50 / p99, ms"] + scales.map { steps in
                "\(Format.ms(steps[index].claimAndFinish.p50)) / \(Format.ms(steps[index].claimAndFinish.p99))"
            })
            rows.append(["scale at \(Format.grouped(level)) jobs: enqueue p50 / p99, ms"] + scales.map { steps in
                "\(Format.ms(steps[index].enqueue.p50)) / \(Format.ms(steps[index].enqueue.p99))"
            })
        }
        rows.append(["scale: database size at \(Format.grouped(scale.levels.last ?? 0)) jobs"] + scales.map { Format.mib(bytes: $0.last?.databaseBytes ?? 0) })
        report.table("Side by side (one run, this machine)", columns: ["figure"] + backends.map(\.label), rows: rows)

        // The targets the issue sets for one PostgreSQL instance, and what every run must show whatever its speed.
        report.targets += intakes[1].speedTargets
        report.targets += intakes.map(\.durabilityTarget)
        for (backend, result) in zip(backends, drains) {
            report.targets += drain.targets(result).prefix(1).map { target in
                var target = target
                target.name += " (drain, \(backend.label))"
                return target
            }
            report.notes += drain.notes(result).map { "drain, \(backend.label): \($0)" }
        }
        for (backend, steps) in zip(backends, scales) { report.targets += ScaleRun.targets(steps, label: backend.label) }
        for run in intakes where run.load.errors > 0 {
            report.note("\(run.variant.rawValue): \(run.load.errors) errors \(run.load.errorsByStatus) transport \(run.load.transportErrors); first: \(run.load.firstError ?? "")")
        }
        report.wallSeconds = elapsedSeconds(since: clock)
        report.data = CompareData(backends: backends.map(\.label), intake: intakes, drain: drains, scale: scales)
        try report.publish(jsonPath: common.jsonPath("compare"))
    }
}

struct CompareData: Encodable {
    var backends: [String]
    var intake: [IntakeRun]
    var drain: [DrainResult]
    var scale: [[ScaleStep]]
}
