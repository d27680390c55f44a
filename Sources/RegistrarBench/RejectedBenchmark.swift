import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore

/// `rejected`: the intake load with every webhook signed by the wrong secret, as an attacker without the
/// secret would send it: how many rejections per second `serve` absorbs, and what they leave on disk (each
/// keeps its verdict, size, hash and at most 4 KiB). The rejection budget is lifted so every post is recorded;
/// with the default one a single client is answered 429 past 60 a minute and leaves nothing.
struct RejectedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rejected",
        abstract: "Badly signed webhooks per second that serve records, and the disk they take."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var load: IntakeLoadOptions

    func run() async throws {
        let started = ContinuousClock.now
        var report = Report(scenario: "rejected")
        let webhooks = try WooOrderWebhooks(fixturesDirectory: try locateFixtures(load.fixtures.folder),
                                            secret: "not-the-store-secret")
        let binary = try locateRegistrarBinary(load.registrar)
        let work = try WorkDirectory(parent: common.workDir, scenario: "rejected", keep: common.keep)
        let database = work.file("registrar.sqlite")
        let config = serveConfiguration(database: database, sandboxURL: "http://127.0.0.1:9", logLevel: load.logLevel)
            .replacingOccurrences(of: "server: {host: 127.0.0.1, port: 0}",
                                  with: "server: {host: 127.0.0.1, port: 0, rejections_per_minute: 1000000}")
        let configPath = work.file("registrar.yaml")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let logPath = work.file("registrar.log")
        let serve = try ServeProcess(binary: binary, configPath: configPath, logPath: logPath)
        defer { serve.stop() }
        var settings = load.settings()
        settings.url = serve.baseURL + "/webhooks/woocommerce/main"
        settings.expectedStatus = 401
        let bytesBefore = Self.databaseBytes(database)
        let cpuBefore = ProcessCPU.seconds(pid: serve.pid)
        print("rejected: posting badly signed webhooks…")
        let result = try await runIntakeLoad(settings, webhooks: webhooks)
        let cpuAfter = ProcessCPU.seconds(pid: serve.pid)
        let status = serve.stop()
        if status != 0 { throw BenchError("registrar serve exited with status \(status); log: \(logPath)") }
        let store = try SQLiteStore(path: database, options: StoreOptions(jobs: JobsConfig()))
        let recorded = try await store.deliveries(DeliveryFilter(verdict: "rejected", limit: 10_000_000)).count
        try store.close()
        let grown = Self.databaseBytes(database) - bytesBefore
        let answered = result.durable + result.warmupDurable
        var serverMicros: Double?
        if let cpuBefore, let cpuAfter { serverMicros = (cpuAfter - cpuBefore) * 1e6 / Double(max(answered, 1)) }

        report.set("connections", "\(load.connections) keep-alive (\(load.client.label)), closed loop")
        report.set("measured", load.measuredDescription + " after a \(load.warmupSeconds) s warm-up")
        report.set("delivery", "order.updated, \(webhooks.body(orderID: 1_000_000).count) B, HMAC signed with the wrong secret: 401 bad_signature")
        report.set("serve", "production defaults but server.rejections_per_minute lifted (every rejection recorded)")
        report.set("serve binary", describeBinary(binary))
        report.table("Rejected deliveries (401s recorded in the ledger)",
                     columns: ["rejections/s", "p50 ms", "p99 ms", "401s", "other answers", "recorded", "disk grown", "per rejection",
                               "serve CPU µs/rejection"],
                     rows: [[Format.rate(result.deliveriesPerSecond), Format.ms(result.latency.p50), Format.ms(result.latency.p99),
                             Format.grouped(answered), Format.grouped(result.errors), Format.grouped(recorded),
                             Format.mib(kiB: grown / 1024), "\(grown / max(recorded, 1)) B",
                             serverMicros.map { String(format: "%.0f", $0) } ?? "?"]])
        report.target("every 401 recorded", "recorded = 401s", measured: "\(recorded) for \(answered)",
                      pass: recorded >= answered && result.errors == 0)
        report.wallSeconds = elapsedSeconds(since: started)
        report.data = RejectedData(load: result, recorded: recorded, databaseBytesGrown: grown)
        try report.publish(jsonPath: common.jsonPath("rejected"))
    }

    static func databaseBytes(_ path: String) -> Int {
        [path, path + "-wal", path + "-shm"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
    }
}

struct RejectedData: Encodable {
    var load: IntakeLoadResult
    var recorded: Int
    var databaseBytesGrown: Int
}
