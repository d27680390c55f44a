import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore
import Sandbox

/// Where an intake run's server lives and whether its writer group-commits.
enum IntakeVariant: String, CaseIterable, Sendable, Codable {
    /// The real `registrar serve` binary as a child process, group commit on.
    case serve
    /// The same with `REGISTRAR_BENCH_NO_GROUP_COMMIT=1` in its environment. serve does not read that variable
    /// yet (see BENCHMARKS.md); the run checks serve's own commit count and says when it was ignored.
    case serveOff = "serve-off"
    /// RegistrarHTTPServer + SQLiteStore in the bench process, group commit on.
    case inProcessOn = "in-process-on"
    /// The same with `SQLiteStore(groupCommit: false)`: one BEGIN IMMEDIATE … COMMIT per delivery.
    case inProcessOff = "in-process-off"
    /// `registrar serve` on a new PostgreSQL database (`--database`): PostgreSQL batches flushes itself.
    case servePostgres = "serve-postgres"
    /// Two `registrar serve` processes on one new PostgreSQL database, the connections split between them (as a
    /// load balancer in front of two instances would).
    case servePostgresPair = "serve-postgres-x2"

    var groupCommit: Bool { self == .serve || self == .inProcessOn }
    var isServe: Bool { self == .serve || self == .serveOff || onPostgres }
    var onPostgres: Bool { self == .servePostgres || self == .servePostgresPair }
    var instances: Int { self == .servePostgresPair ? 2 : 1 }
    var place: String {
        switch self {
        case .servePostgres: "registrar serve on PostgreSQL"
        case .servePostgresPair: "two registrar serves on one PostgreSQL"
        default: isServe ? "registrar serve (child process)" : "in-process"
        }
    }

    static let defaultRuns: [IntakeVariant] = [.serve, .inProcessOn, .inProcessOff]
    static let noGroupCommitVariable = "REGISTRAR_BENCH_NO_GROUP_COMMIT"
}

/// One intake run: the load's view and the database's.
struct IntakeRun: Codable, Sendable {
    var variant: IntakeVariant
    var groupCommit: Bool
    var load: IntakeLoadResult
    /// Deliveries with a 200 on disk after the run, warm-up included: must be ≥ the 200 answers.
    var recordedDeliveries: Int
    var jobsCreated: Int
    var writeTransactions: Int?
    var writes: Int?
    var memoryIdle: ProcessMemory?
    var memoryAfterLoad: ProcessMemory?
    /// Highest VmRSS seen by sampling every 200 ms during the load.
    var sampledPeakRSSKiB: Int?
    var logBytes: Int
    /// CPU seconds used during the measured phase (warm-up included) by the server process, and by the bench
    /// process (load generator + sandbox; + the server itself for in-process runs).
    var serverCPUSeconds: Double?
    var benchCPUSeconds: Double?

    /// CPU microseconds per durable delivery, server side (nil in-process, where it cannot be separated).
    var serverMicrosPerDelivery: Double? {
        serverCPUSeconds.map { $0 * 1e6 / Double(max(1, load.durable + load.warmupDurable)) }
    }
    var benchMicrosPerDelivery: Double? {
        benchCPUSeconds.map { $0 * 1e6 / Double(max(1, load.durable + load.warmupDurable)) }
    }

    var averageBatch: Double? {
        guard let writes, let writeTransactions, writeTransactions > 0 else { return nil }
        return Double(writes) / Double(writeTransactions)
    }

    /// Every 200 answered is on disk, and no request failed.
    var durabilityTarget: Report.Target {
        let answered = load.durable + load.warmupDurable
        return Report.Target(name: "durability (\(variant.rawValue))", target: "every 200 on disk, no errors",
                             measured: "\(Format.grouped(recordedDeliveries)) on disk for \(Format.grouped(answered)) 200s, \(load.errors) errors",
                             pass: recordedDeliveries >= answered && load.errors == 0)
    }

    /// The speed promised: 5,000 deliveries/s on SQLite; one PostgreSQL instance's target (issue 19) is 3,000/s.
    var speedTargets: [Report.Target] {
        let label = variant.rawValue
        let target = variant.onPostgres ? 3000.0 : 5000.0
        return [Report.Target(name: "throughput (\(label))", target: "≥ \(Format.grouped(Int(target))) deliveries/s",
                              measured: Format.rate(load.deliveriesPerSecond) + "/s", pass: load.deliveriesPerSecond >= target),
                Report.Target(name: "p99 latency (\(label))", target: "≤ 50 ms", measured: Format.ms(load.latency.p99) + " ms",
                              pass: load.latency.p99 <= 50)]
    }
}

struct IntakeEnvironment {
    var webhooks: WooOrderWebhooks
    var sandbox: RunningSandbox
    var registrarBinary: String?
    var workParent: String?
    var keep: Bool
    var logLevel: String
    var idleSeconds: Double = 0
    /// The PostgreSQL server for `serve-postgres` runs: each gets a new database on it.
    var postgres: PostgresURL?
}

enum IntakeRunner {
    static func run(_ variant: IntakeVariant, load: IntakeLoadSettings, environment: IntakeEnvironment) async throws -> IntakeRun {
        let work = try WorkDirectory(parent: environment.workParent, scenario: "intake-\(variant.rawValue)", keep: environment.keep)
        var database = work.file("registrar.sqlite")
        var postgres: PostgresURL?
        if variant.onPostgres {
            guard let server = environment.postgres else { throw BenchError("\(variant.rawValue) needs --database postgres://…") }
            let url = try await BenchBackend.newDatabase("intake", on: server)
            postgres = url
            database = "\"\(url)\""
        }
        let configText = serveConfiguration(database: database, sandboxURL: environment.sandbox.baseURL,
                                            logLevel: environment.logLevel)
        let logPath = work.file("registrar.log")
        var settings = load
        switch variant {
        case .serve, .serveOff, .servePostgres, .servePostgresPair:
            guard let binary = environment.registrarBinary else { throw BenchError("no registrar binary") }
            let configPath = work.file("registrar.yaml")
            try configText.write(toFile: configPath, atomically: true, encoding: .utf8)
            let extra = variant == .serveOff ? [IntakeVariant.noGroupCommitVariable: "1"] : [:]
            let logPaths = variant.instances == 1 ? [logPath] : (1...variant.instances).map { work.file("registrar-\($0).log") }
            let serves = try logPaths.map { try ServeProcess(binary: binary, configPath: configPath, logPath: $0, environment: extra) }
            defer { serves.forEach { _ = $0.stop() } }
            let serve = serves[0]
            if environment.idleSeconds > 0 { try await Task.sleep(for: .seconds(environment.idleSeconds)) }
            let idle = serve.memory
            settings.url = serve.baseURL + "/webhooks/woocommerce/main"
            settings.moreURLs = serves.dropFirst().map { $0.baseURL + "/webhooks/woocommerce/main" }
            let sampler = MemorySampler(pid: serve.pid)
            // Every instance's CPU: the figure per delivery is the pair's.
            func serveCPU() -> Double? {
                let each = serves.map { ProcessCPU.seconds(pid: $0.pid) }
                return each.contains { $0 == nil } ? nil : each.reduce(0) { $0 + ($1 ?? 0) }
            }
            let cpuBefore = (serveCPU(), ProcessCPU.seconds(pid: getpid()))
            let result = try await runIntakeLoad(settings, webhooks: environment.webhooks)
            let cpuAfter = (serveCPU(), ProcessCPU.seconds(pid: getpid()))
            let sampledPeak = await sampler.finish()
            let after = serve.memory
            var writes: (transactions: Int, writes: Int)? = (0, 0)
            for each in serves {
                if let counted = await scrapeWriteStats(each.baseURL), let sum = writes {
                    writes = (sum.transactions + counted.transactions, sum.writes + counted.writes)
                } else { writes = nil }
            }
            for (each, path) in zip(serves, logPaths) {
                let status = each.stop()
                if status != 0 { throw BenchError("registrar serve exited with status \(status); log: \(path)") }
            }
            let counts = if let postgres { try await countDelivered(postgres: postgres) } else { try await countDelivered(database: database) }
            // serve's own counters say whether it batched: the only proof the switch took effect.
            let batched = writes.map { $0.transactions > 0 && Double($0.writes) / Double($0.transactions) > 1.05 } ?? true
            return IntakeRun(variant: variant, groupCommit: batched, load: result, recordedDeliveries: counts.deliveries,
                             jobsCreated: counts.jobs, writeTransactions: writes?.transactions, writes: writes?.writes,
                             memoryIdle: idle, memoryAfterLoad: after, sampledPeakRSSKiB: sampledPeak,
                             logBytes: fileSize(logPath), serverCPUSeconds: difference(cpuBefore.0, cpuAfter.0),
                             benchCPUSeconds: difference(cpuBefore.1, cpuAfter.1))
        case .inProcessOn, .inProcessOff:
            let level = Logger.Level(rawValue: environment.logLevel) ?? .info
            let logger = FileLogHandler.logger(label: "registrar", path: logPath, level: level)
            let server = try await InProcessIntake.start(configText: configText, groupCommit: variant.groupCommit, logger: logger)
            settings.url = server.baseURL + "/webhooks/woocommerce/main"
            let cpuBefore = ProcessCPU.seconds(pid: getpid())
            let result = try await runIntakeLoad(settings, webhooks: environment.webhooks)
            let cpuAfter = ProcessCPU.seconds(pid: getpid())
            let stats = server.store.writeStats
            await server.stop()
            let counts = try await countDelivered(database: database)
            return IntakeRun(variant: variant, groupCommit: variant.groupCommit, load: result,
                             recordedDeliveries: counts.deliveries, jobsCreated: counts.jobs,
                             writeTransactions: stats.transactions, writes: stats.writes, memoryIdle: nil,
                             memoryAfterLoad: nil, sampledPeakRSSKiB: nil, logBytes: fileSize(logPath),
                             serverCPUSeconds: nil, benchCPUSeconds: difference(cpuBefore, cpuAfter))
        }
    }

    /// Reads back what is on disk after the server has stopped: the proof that a 200 meant committed.
    static func countDelivered(database: String) async throws -> (deliveries: Int, jobs: Int) {
        let store = try SQLiteStore(path: database, options: StoreOptions(jobs: JobsConfig()))
        defer { try? store.close() }
        let counts = try await store.benchmarkCounts()
        return (counts.acceptedDeliveries, counts.jobs)
    }

    static func countDelivered(postgres url: PostgresURL) async throws -> (deliveries: Int, jobs: Int) {
        let store = try await PostgresStore.open(url, options: StoreOptions(jobs: JobsConfig()))
        defer { store.close() }
        let counts = try await store.benchmarkCounts()
        return (counts.acceptedDeliveries, counts.jobs)
    }

    /// serve's own count of write transactions and of the writes they carried, from `/metrics`.
    static func scrapeWriteStats(_ baseURL: String) async -> (transactions: Int, writes: Int)? {
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        guard let response = try? await client.execute(HTTPRequest(url: baseURL + "/metrics")) else { return nil }
        func gauge(_ name: String) -> Int? {
            response.bodyText.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                .flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) }
        }
        guard let transactions = gauge("registrar_write_transactions"), let writes = gauge("registrar_writes") else { return nil }
        return (transactions, writes)
    }

    static func difference(_ before: Double?, _ after: Double?) -> Double? {
        guard let before, let after else { return nil }
        return after - before
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
