import ArgumentParser
import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import RegistrarWorker
import Sandbox
import WooCommerceClient

/// `catch-up`: a store holding thousands of paid orders no webhook delivered, walked once by the real catch-up
/// (REST client over libcurl, keyset pages of 100, each order decided and recorded with its enroll job, cursor
/// moved per page), against the sandbox's store in this process. Then walked again, when every order is known.
struct CatchUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "WooCommerce orders listed and decided per second by catch-up (sandbox included), and the peak RSS."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Paid orders in the store.") var orders = 10_000

    func validate() throws {
        guard (1...1_000_000).contains(orders) else { throw ValidationError("--orders must be 1…1,000,000") }
    }

    struct Result: Encodable {
        var orders: Int
        var firstWalkSeconds: Double
        var ordersPerSecond: Double
        var requests: Int
        var recovered: Int
        var jobsCreated: Int
        var secondWalkSeconds: Double
        var secondWalkOrdersPerSecond: Double
        var secondWalkRecovered: Int
        var peakRSSKiB: Int
    }

    func run() async throws {
        let began = ContinuousClock.now
        var report = Report(scenario: "catch-up")
        let sandbox = try await startSandbox()
        let course = "course-v1:Bench+CatchUp+2026"
        // Spread over the last hour, several orders to a second, as a busy store's are.
        let now = Date()
        let listed: [SandboxJSON] = (0..<orders).map { n in
            let modified = String(now.addingTimeInterval(-3600 + 3600 * Double(n) / Double(orders)).formatted(Date.ISO8601FormatStyle()).dropLast())
            return [
                "id": .int(100_000 + n), "number": .string(String(100_000 + n)), "status": "processing", "currency": "USD",
                "total": "49.00", "date_modified_gmt": .string(modified),
                "billing": ["first_name": "Bench", "last_name": .string(String(n)), "email": .string("bench\(n)@bench.example.com")],
                "line_items": [["id": .int(n * 10 + 1), "name": "Bench course", "product_id": 93, "variation_id": 0, "quantity": 1,
                                "subtotal": "49.00", "total": "49.00", "sku": "", "price": 49, "meta_data": []]],
            ]
        }
        try await sandbox.addWooOrders(listed)

        let work = try WorkDirectory(parent: common.workDir, scenario: "catch-up", keep: common.keep)
        let store = try SQLiteStore(path: work.file("registrar.sqlite"), options: StoreOptions(jobs: JobsConfig()))
        var storeConfig = StoreConfig(id: "main", webhookSecret: Secret("bench"))
        storeConfig.url = sandbox.baseURL
        storeConfig.consumerKey = Secret("ck_sandbox")
        storeConfig.consumerSecret = Secret("cs_sandbox")
        storeConfig.catchUp.initialLookbackHours = 2
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let logger = FileLogHandler.logger(label: "registrar", path: work.file("registrar.log"), level: .info)
        let catchUp = WooCommerceCatchUp(store: store, client: WooCommerceRESTClient(http: http),
                                         catalog: [CatalogEntry(store: "main", productID: 93, courseID: course, mode: "audit")],
                                         logger: logger)

        report.set("store", "\(Format.grouped(orders)) paid orders (one course line each, distinct buyers) modified over the last hour, in the sandbox in this process")
        report.set("walk", "WooCommerceCatchUp: GET …/orders?modified_after&dates_are_gmt=true&orderby=modified&order=asc&per_page=100, keyset pages")
        report.set("per order", "parsed as a webhook's body, decided against its order's memory, recorded (delivery + enroll job) in one commit per page")
        report.set("database", "SQLite, WAL, synchronous=FULL; no workers run (the jobs stay queued)")
        print("catch-up: \(orders) orders…")

        let firstStart = ContinuousClock.now
        guard case .success(let first) = await catchUp.run(storeConfig, holder: "bench") else {
            throw ValidationError("the first walk failed: see \(work.file("registrar.log"))")
        }
        let firstSeconds = elapsedSeconds(since: firstStart)
        let secondStart = ContinuousClock.now
        guard case .success(let second) = await catchUp.run(storeConfig, holder: "bench", since: first.start) else {
            throw ValidationError("the second walk failed: see \(work.file("registrar.log"))")
        }
        let secondSeconds = elapsedSeconds(since: secondStart)
        let peak = ProcessMemory.read(pid: getpid())?.peakKiB ?? 0
        await sandbox.stop()
        try store.close()

        let result = Result(orders: orders, firstWalkSeconds: firstSeconds, ordersPerSecond: Double(first.listed) / firstSeconds,
                            requests: first.requests, recovered: first.recovered, jobsCreated: first.jobsCreated,
                            secondWalkSeconds: secondSeconds, secondWalkOrdersPerSecond: Double(second.listed) / secondSeconds,
                            secondWalkRecovered: second.recovered, peakRSSKiB: peak)
        report.table("Catch-up", columns: ["walk", "orders listed", "requests", "recovered", "seconds", "orders/s"], rows: [
            ["first (every order new)", Format.grouped(first.listed), "\(first.requests)", Format.grouped(first.recovered),
             String(format: "%.2f", firstSeconds), Format.rate(result.ordersPerSecond)],
            ["second (every order known)", Format.grouped(second.listed), "\(second.requests)", Format.grouped(second.recovered),
             String(format: "%.2f", secondSeconds), Format.rate(result.secondWalkOrdersPerSecond)],
        ])
        report.set("peak RSS", "\(Format.grouped(peak / 1024)) MiB (VmHWM of this process: catch-up, SQLite and the sandbox holding every order)")
        report.target("every order recovered once", "\(orders) recovered, then 0",
                      measured: "\(first.recovered), then \(second.recovered)", pass: first.recovered == orders && second.recovered == 0)
        report.target("orders listed and decided", "≥ 1,000/s (sandbox included)", measured: Format.rate(result.ordersPerSecond) + "/s",
                      pass: result.ordersPerSecond >= 1000)
        report.wallSeconds = elapsedSeconds(since: began)
        report.data = result
        try report.publish(jsonPath: common.jsonPath("catch-up"))
    }
}
