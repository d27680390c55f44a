import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore

/// CPU per stage of a WooCommerce delivery's pure work, one thread, no I/O: what the intake scenario's end-to-end
/// figure is made of, measured without the noise of a shared machine's scheduler. For finding what to make
/// cheaper; the targets are the intake scenario's. Last, the one writer's share: what intake's transaction does
/// per delivery, in commits of as many deliveries as `serve` groups under the intake load.
struct StagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "CPU per stage of a delivery's pure work (signature, JSON, decision), one thread, no I/O."
    )

    @Option(help: "Deliveries per stage.")
    var iterations = 20_000
    @OptionGroup var fixtures: WebhookFixtures
    @Option(help: "Measure only the stages whose name contains this text (for profiling one).")
    var only: String?
    @Option(help: "Deliveries per commit in the writer stage (serve groups ≈ 25 under the intake load).")
    var perCommit = 25
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let clock = ContinuousClock.now
        let webhooks = try fixtures.webhooks()
        let bodies = (0..<256).map { webhooks.body(orderID: 1_000_000 + $0) }
        let signatures = bodies.map(webhooks.signature)
        let secret = Secret(WooOrderWebhooks.secret)
        let config = try ConfigLoader(environment: [:]).load(
            text: serveConfiguration(database: "unused.sqlite", sandboxURL: "http://127.0.0.1:1", logLevel: "info"),
            file: "stages")
        guard let store = config.woocommerce.stores["main"] else { throw BenchError("the bench configuration has no store") }
        let rules = WooIntakeRules(store: store, catalog: config.catalog)
        let payloads = try bodies.map { try WooPayload.parse(topic: "order.updated", body: $0) }

        var report = Report(scenario: "stages")
        report.set("delivery", "order.updated, \(bodies[0].count) B (the intake scenario's), 256 distinct bodies in turn")
        report.set("runs", "\(Format.grouped(iterations)) deliveries per stage after 1,000 warm-up, one thread")
        var rows: [(String, Double)] = []
        func measure(_ name: String, _ body: (Int) throws -> Int) rethrows {
            if let only, !name.contains(only) { return }
            var sink = 0
            for index in 0..<min(iterations, 1000) { sink &+= try body(index) } // warm caches and lazy metadata
            let start = ContinuousClock.now
            for index in 0..<iterations { sink &+= try body(index) }
            let elapsed = ContinuousClock.now - start
            let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
            rows.append((name, micros / Double(iterations)))
            if sink == 42 { print("") } // keeps the work from being optimized away
        }
        let verifier = WooWebhookSignature.Verifier(secret: secret)
        measure("verify HMAC signature") { index in
            verifier.isValid(body: bodies[index & 255], signature: signatures[index & 255]) ? 1 : 0
        }
        try measure("read the whole body into JSONValues") { index in
            if case .object(let fields) = try JSONValue.parse(bytes: bodies[index & 255]) { return fields.count }
            return 0
        }
        try measure("check the body as JSON, build nothing") { index in
            if case .object(let fields) = try JSONValue.parse(bytes: bodies[index & 255], selecting: .members([:])) {
                return fields.count
            }
            return 0
        }
        try measure("parse the order (only the fields it uses)") { index in
            if case .order(let order) = try WooPayload.parse(topic: "order.updated", body: bodies[index & 255]) {
                return order.lineItems.count
            }
            return 0
        }
        measure("decide (map lines, build jobs)") { index in
            rules.decide(payloads[index & 255], memory: WooOrderMemory(), deliveryID: "bench").jobs.count
        }
        report.table("CPU per delivery (µs, one thread)", columns: ["stage", "µs"],
                     rows: rows.map { [$0.0, String(format: "%.1f", $0.1)] })
        report.note("Only the pure work: the intake scenario adds HTTP, the store's transaction and commit, and logging.")

        let writerStage = "writer: intake's transaction"
        if only.map({ writerStage.contains($0) }) ?? true {
            let writer = try await measureWriter(webhooks: webhooks, rules: rules, storeID: store.id, maxAttempts: config.jobs.maxAttempts)
            report.set("writer", "an SQLiteStore on a real file (WAL, synchronous=FULL), \(Format.grouped(writer.deliveries)) new orders, \(perCommit) concurrent callers at a time: \(String(format: "%.1f", writer.batch)) per commit")
            report.table("The writer's work per delivery (µs)", columns: ["stage", "CPU", "wall"],
                         rows: [[writerStage + " (IntakeLedger.recordWooCommerce: decide against the store, record the delivery and its jobs)",
                                 String(format: "%.1f", writer.cpu), String(format: "%.1f", writer.wall)]])
            report.note("CPU is the whole process's (nothing else runs); wall includes waiting for each commit's flush.")
        }
        report.wallSeconds = elapsedSeconds(since: clock)
        try report.publish(jsonPath: common.jsonPath("stages"))
    }

    /// Intake's write for new orders, as `WooCommerceIntake` makes it (`IntakeLedger.recordWooCommerce`), with
    /// `perCommit` callers at a time so the group-committing writer batches them as it does under load.
    private func measureWriter(webhooks: WooOrderWebhooks, rules: WooIntakeRules, storeID: String, maxAttempts: Int)
        async throws -> (deliveries: Int, cpu: Double, wall: Double, batch: Double) {
        let work = try WorkDirectory(parent: common.workDir, scenario: "stages", keep: common.keep)
        let store = try SQLiteStore(path: work.file("registrar.sqlite"), options: StoreOptions(jobs: JobsConfig()))
        defer { try? store.close() }
        let commits = max(1, iterations / perCommit)
        // Bodies made and parsed, and their decisions speculated, beforehand: only the store's work is measured.
        let deliveries = try (0..<(commits + 20) * perCommit).map { index -> (WooIntake, NewDelivery) in
            let body = webhooks.body(orderID: 2_000_000 + index)
            let payload = try WooPayload.parse(topic: "order.updated", body: body)
            guard case .order = payload else { throw BenchError("the fixture is not an order") }
            let headers = Dictionary(webhooks.headers(orderID: index, body: body).fields.map { ($0.name.lowercased(), $0.value) },
                                     uniquingKeysWith: { first, _ in first })
            return (WooIntake.prepared(payload, rules: rules),
                    NewDelivery(source: "woocommerce", channel: storeID, headers: headers, body: body, verdict: "", httpStatus: 200))
        }
        func commit(_ batch: Int) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (intake, delivery) in deliveries[(batch * perCommit)..<((batch + 1) * perCommit)] {
                    group.addTask { _ = try await store.recordWooCommerce(intake, delivery: delivery) }
                }
                try await group.waitForAll()
            }
        }
        for batch in 0..<20 { try await commit(batch) } // warm-up
        let before = store.writeStats
        let cpuStart = ProcessCPU.seconds(pid: getpid()) ?? 0
        let start = ContinuousClock.now
        for batch in 20..<(20 + commits) { try await commit(batch) }
        let wall = elapsedSeconds(since: start)
        let cpu = (ProcessCPU.seconds(pid: getpid()) ?? 0) - cpuStart
        let after = store.writeStats
        let count = Double(commits * perCommit)
        let batch = Double(after.writes - before.writes) / Double(max(1, after.transactions - before.transactions))
        return (commits * perCommit, cpu / count * 1e6, wall / count * 1e6, batch)
    }
}
