import ArgumentParser
import Foundation
import RegistrarSQLite
import RegistrarStore
import Sandbox

/// `audit`: `registrar reports audit` as operators run it, a child process, on a course with `--enrollments`
/// learners who bought a seat (in the store, and enrolled in the sandbox LMS) plus `--outsiders` enrolled in the
/// LMS by hand, whose emails the audit must ask the LMS for. Times the whole run and samples its memory.
struct AuditBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "reports audit: a course of 100,000 paid enrollments, every LMS page read and every enrollment explained."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Paid enrollments, in the store and the LMS.") var enrollments = 100_000
    @Option(help: "Enrollments made directly in the LMS.") var outsiders = 1_000
    @Option(help: "The registrar binary (default: next to this one).") var registrar: String?

    struct Result: Encodable {
        var enrollments: Int
        var seconds: Double
        var peakRSSKiB: Int
        var explained: Int
        var unexplained: Int
    }

    func run() async throws {
        let began = ContinuousClock.now
        var report = Report(scenario: "audit")
        let binary = try locateRegistrarBinary(registrar)
        let work = try WorkDirectory(parent: common.workDir, scenario: "audit", keep: common.keep)
        let course = "course-v1:Bench+Audit+2026"
        let sandbox = try await startSandbox(courses: [.init(id: course, modes: ["audit"])])
        defer { Task { await sandbox.stop() } }
        _ = try await sandbox.seedEnrollments(SandboxBulkEnrollment(courseID: course, count: enrollments, prefix: "paid", mode: "audit",
                                                                    emailDomain: "bench.example.com"))
        _ = try await sandbox.seedEnrollments(SandboxBulkEnrollment(courseID: course, count: outsiders, prefix: "direct", mode: "audit",
                                                                    emailDomain: "bench.example.com"))
        let database = work.file("registrar.sqlite")
        let store = try SQLiteStore(path: database, options: StoreOptions(jobs: .init()))
        try await store.benchmarkFillPurchases(courseID: course, count: enrollments, prefix: "paid", domain: "bench.example.com")
        try await store.benchmarkCheckpoint()
        try store.close()
        let configPath = work.file("registrar.yaml")
        try """
            database: \(database)
            openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret, requests_per_minute: 100000}
            logging: {level: warning}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["reports", "audit", "--course", course, "--json", "--config", configPath]
        let output = work.file("audit.json")
        guard FileManager.default.createFile(atPath: output, contents: nil) else { throw BenchError("cannot create \(output)") }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.standardError
        let start = ContinuousClock.now
        try process.run()
        let sampler = MemorySampler(pid: process.processIdentifier)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let seconds = (ContinuousClock.now - start).inMilliseconds / 1000
        let peak = await sampler.finish()
        guard process.terminationStatus == 0 else { throw BenchError("reports audit exited \(process.terminationStatus)") }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any]
        let explained = (json?["explained"] as? [String: Any]) ?? [:]
        let paid = explained["paid_single_seat"] as? Int ?? -1
        let unexplained = explained["unexplained"] as? Int ?? -1

        report.set("course", "\(Format.grouped(enrollments)) paid seats (SQLite, one WooCommerce line each) + \(Format.grouped(outsiders)) enrolled in the LMS directly")
        report.set("LMS", "the sandbox in this process, cursor pages of 100; outsiders' emails from the accounts API in batches of 100")
        report.table("reports audit", columns: ["step", "value"], rows: [
            ["wall time (process start to exit)", String(format: "%.2f s", seconds)],
            ["peak RSS (sampled every 200 ms)", "\(Format.grouped(peak / 1024)) MiB"],
            ["explained as paid single seats", Format.grouped(paid)],
            ["unexplained (enrolled without payment)", Format.grouped(unexplained)],
        ])
        report.target("audit \(Format.grouped(enrollments + outsiders)) enrollments", "well under a minute",
                      measured: String(format: "%.1f s", seconds), pass: seconds < 30 && paid == enrollments && unexplained == outsiders)
        report.wallSeconds = elapsedSeconds(since: began)
        report.data = Result(enrollments: enrollments + outsiders, seconds: seconds, peakRSSKiB: peak, explained: paid, unexplained: unexplained)
        try report.publish(jsonPath: common.jsonPath("audit"))
    }
}
