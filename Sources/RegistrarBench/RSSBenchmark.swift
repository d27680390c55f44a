import ArgumentParser
import Foundation

/// `rss`: the resident memory of `registrar serve` idle and at its peak under the intake load, read from
/// /proc/<pid>/status (VmRSS now, VmHWM the high-water mark since start).
struct RSSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rss",
        abstract: "Peak RSS of registrar serve, idle and under the intake load."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var load: IntakeLoadOptions
    @Option(help: "Seconds serve sits idle (workers polling) before the idle reading.")
    var idleSeconds = 5.0

    func run() async throws {
        let clock = ContinuousClock.now
        var report = Report(scenario: "rss")
        let webhooks = try load.fixtures.webhooks()
        let binary = try locateRegistrarBinary(load.registrar)
        let sandbox = try await startSandbox(courses: [.init(id: "course-v1:edX+DemoX+Demo_Course", modes: ["audit", "verified"]),
                                                       .init(id: "course-v1:edX+DemoX+2026", modes: ["audit"])])
        var environment = IntakeEnvironment(webhooks: webhooks, sandbox: sandbox, registrarBinary: binary,
                                            workParent: common.workDir, keep: common.keep, logLevel: load.logLevel)
        environment.idleSeconds = idleSeconds
        report.set("process", "registrar serve, production defaults, sandbox as Open edX")
        report.set("serve binary", describeBinary(binary))
        report.set("idle", "\(idleSeconds) s after it listens")
        report.set("load", "the intake scenario: \(load.connections) connections (\(load.client.label)), \(load.measuredDescription) after a \(load.warmupSeconds) s warm-up")
        print("rss: serve idle \(idleSeconds) s, then under load…")
        let run = try await IntakeRunner.run(.serve, load: load.settings(), environment: environment)
        await sandbox.stop()

        guard let idle = run.memoryIdle, let after = run.memoryAfterLoad else {
            throw BenchError("could not read /proc/<pid>/status of registrar serve")
        }
        report.table("registrar serve memory",
                     columns: ["moment", "VmRSS", "VmHWM (peak so far)"],
                     rows: [["idle", Format.mib(kiB: idle.rssKiB), Format.mib(kiB: idle.peakKiB)],
                            ["under load (sampled every 200 ms, highest)", run.sampledPeakRSSKiB.map { Format.mib(kiB: $0) } ?? "?", ""],
                            ["after the load", Format.mib(kiB: after.rssKiB), Format.mib(kiB: after.peakKiB)]])
        report.note("load: \(Format.rate(run.load.deliveriesPerSecond)) deliveries/s, p99 \(Format.ms(run.load.latency.p99)) ms, \(Format.grouped(run.load.durable + run.load.warmupDurable)) deliveries stored, \(run.load.errors) errors")
        report.target("peak RSS under load", "≤ 100 MiB", measured: Format.mib(kiB: after.peakKiB), pass: after.peakKiB <= 100 * 1024)
        report.wallSeconds = elapsedSeconds(since: clock)
        report.data = run
        try report.publish(jsonPath: common.jsonPath("rss"))
    }
}
