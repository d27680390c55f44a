import ArgumentParser
import Foundation
import RegistrarCore
import Sandbox

/// `intake`: signed WooCommerce order webhooks from 64 keep-alive connections (SwiftNIO client by default,
/// `--client curl` for the project's libcurl one) at `registrar serve`, then at the same server in-process with
/// group commit on and off, to show what batching commits is worth.
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Durable webhook deliveries per second and their latency; group commit on vs off."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var load: IntakeLoadOptions
    @Option(parsing: .upToNextOption,
            help: "Runs to make: serve, in-process-on, in-process-off (default), serve-off (needs REGISTRAR_BENCH_NO_GROUP_COMMIT in serve), serve-postgres and serve-postgres-x2 (two serves on one database; both need --database).")
    var runs: [IntakeVariant] = IntakeVariant.defaultRuns
    @Option(help: "A PostgreSQL server for serve-postgres runs (a new database each): postgres://user@host:port/postgres?sslmode=disable.")
    var database: String?

    func run() async throws {
        let clock = ContinuousClock.now
        var report = Report(scenario: "intake")
        let webhooks = try load.fixtures.webhooks()
        let binary = runs.contains(where: \.isServe) ? try locateRegistrarBinary(load.registrar) : nil
        let sandbox = try await startSandbox(courses: [.init(id: "course-v1:edX+DemoX+Demo_Course", modes: ["audit", "verified"]),
                                                       .init(id: "course-v1:edX+DemoX+2026", modes: ["audit"])])
        var environment = IntakeEnvironment(webhooks: webhooks, sandbox: sandbox, registrarBinary: binary,
                                            workParent: common.workDir, keep: common.keep, logLevel: load.logLevel)
        environment.postgres = try database.map { try PostgresURL.parse($0) }
        report.set("connections", "\(load.connections) keep-alive (\(load.client.label)), closed loop")
        report.set("measured", load.measuredDescription + " per run, after a \(load.warmupSeconds) s warm-up")
        report.set("delivery", "order.updated, \(webhooks.body(orderID: 1_000_000).count) B (fixture order 727 with a unique id and email), HMAC-SHA256 signed; 2 enroll jobs each")
        report.set("store", "WAL, synchronous=FULL, one writer; a 200 is sent only after the commit")
        report.set("serve", "production defaults: 16 workers paced at 120 Open edX calls/min (sandbox in the bench process), logging.level \(load.logLevel) to a file")
        report.set("runs", runs.map(\.rawValue).joined(separator: ", "))
        if let binary { report.set("serve binary", describeBinary(binary)) }
        report.set("load generator", "in the bench process, on the same \(report.machine.cores) cores as the server")

        var results: [IntakeRun] = []
        for variant in runs {
            print("intake: \(variant.rawValue)…")
            let result = try await IntakeRunner.run(variant, load: load.settings(), environment: environment)
            results.append(result)
            print("  \(Format.rate(result.load.deliveriesPerSecond)) deliveries/s, p99 \(Format.ms(result.load.latency.p99)) ms")
        }
        await sandbox.stop()

        report.table("Durable deliveries (only 200 answers count; latency of the 200s, ms)",
                     columns: ["run", "server", "group commit", "deliveries/s", "p50", "p90", "p99", "max", "200s", "errors",
                               "on disk", "commits", "deliveries/commit"],
                     rows: results.map { run in
                         [run.variant.rawValue, run.variant.place, run.groupCommit ? "on" : "off",
                          Format.rate(run.load.deliveriesPerSecond), Format.ms(run.load.latency.p50),
                          Format.ms(run.load.latency.p90), Format.ms(run.load.latency.p99), Format.ms(run.load.latency.max),
                          Format.grouped(run.load.durable), Format.grouped(run.load.errors),
                          Format.grouped(run.recordedDeliveries),
                          run.writeTransactions.map(Format.grouped) ?? "?",
                          run.averageBatch.map { String(format: "%.1f", $0) } ?? "?"]
                     })
        report.table("CPU per durable delivery (µs; warm-up included; \(report.machine.cores) cores = \(Format.grouped(report.machine.cores * 1_000_000)) µs of CPU per second)",
                     columns: ["run", "server process", "bench process (load generator + sandbox)", "total", "ceiling at 100 % CPU"],
                     rows: results.map { run in
                         let server = run.serverMicrosPerDelivery
                         let bench = run.benchMicrosPerDelivery
                         let total = (server ?? 0) + (bench ?? 0)
                         return [run.variant.rawValue, server.map { String(format: "%.0f", $0) } ?? "(in bench)",
                                 bench.map { String(format: "%.0f", $0) } ?? "?", String(format: "%.0f", total),
                                 total > 0 ? Format.rate(Double(report.machine.cores) * 1e6 / total) + "/s" : "?"]
                     })
        if let serve = results.first(where: \.variant.isServe), let idle = serve.memoryIdle, let after = serve.memoryAfterLoad {
            report.note("serve memory: idle VmRSS \(Format.mib(kiB: idle.rssKiB)); after the load VmHWM \(Format.mib(kiB: after.peakKiB)) (see the rss scenario)")
        }
        for run in results where run.load.errors > 0 {
            report.note("\(run.variant.rawValue): \(run.load.errors) errors \(run.load.errorsByStatus) transport \(run.load.transportErrors); first: \(run.load.firstError ?? "")")
        }

        let headline = results.first { $0.variant == .serve } ?? results.first { $0.variant == .inProcessOn }
            ?? results.first
        if let headline { report.targets += headline.speedTargets }
        report.targets += results.map(\.durabilityTarget)
        if let serveOff = results.first(where: { $0.variant == .serveOff }), serveOff.groupCommit {
            report.note("serve-off: serve still group-committed (\(serveOff.averageBatch.map { String(format: "%.1f", $0) } ?? "?") writes per commit): this build does not read \(IntakeVariant.noGroupCommitVariable); the run is not an \"off\" figure")
        }
        var ratio: Double?
        // Like with like: serve against serve when its switch worked, else the two in-process runs.
        let pairs: [(IntakeVariant, IntakeVariant, String)] = [(.serve, .serveOff, "registrar serve"), (.inProcessOn, .inProcessOff, "in-process, same harness")]
        for (onVariant, offVariant, label) in pairs {
            guard let on = results.first(where: { $0.variant == onVariant }), let off = results.first(where: { $0.variant == offVariant }),
                  on.groupCommit, !off.groupCommit, off.load.deliveriesPerSecond > 0 else { continue }
            let value = on.load.deliveriesPerSecond / off.load.deliveriesPerSecond
            ratio = ratio ?? value
            report.note("group commit on/off (\(label)): " + String(format: "%.1f", value)
                        + "× the deliveries/s (\(Format.rate(on.load.deliveriesPerSecond)) vs \(Format.rate(off.load.deliveriesPerSecond)))")
        }
        if !runs.contains(.serveOff) {
            report.note("group commit off runs in-process: serve has no switch for SQLiteStore's groupCommit")
        }
        report.wallSeconds = elapsedSeconds(since: clock)
        report.data = IntakeData(runs: results, groupCommitRatio: ratio)
        try report.publish(jsonPath: common.jsonPath("intake"))
    }
}

struct IntakeData: Encodable {
    var runs: [IntakeRun]
    var groupCommitRatio: Double?
}
