import Foundation
import RegistrarCore
import RegistrarStore
import Testing

/// The `registrar` binary built next to this test bundle.
func registrarBinary() -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // On Linux the test runner is `<build>/registrarPackageTests.xctest`; the binary is beside it.
    if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
    return dir.appendingPathComponent("registrar").path
}

struct ProcessResult {
    var status: Int32
    var output: String
}

/// Runs `registrar` with the database chosen through the environment, as an operator's shell would.
func runRegistrar(_ arguments: [String], database: String, environment extra: [String: String] = [:]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: registrarBinary())
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["REGISTRAR_DATABASE"] = database
    for (key, value) in extra { environment[key] = value }
    process.environment = environment
    process.currentDirectoryURL = URL(fileURLWithPath: database).deletingLastPathComponent()
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

@Suite struct CLITests {
    @Test func jobsCommandsWorkOnTheDatabaseAndSpeakJSON() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let store = try makeStore(dir)
        _ = try await store.enqueue([job("order-7|line-1", serial: "ann@example.com|C1", payload: #"{"email":"ann@example.com"}"#),
                                     job("order-7|line-2", kind: .unenroll)])
        let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
        try await store.finish(claimed, outcome: .permanent(reason: "No course 'C1' found for enrollment", httpStatus: 400))

        let list = try runRegistrar(["jobs", "list", "--json"], database: database)
        #expect(list.status == 0)
        let listed = try JSONDecoder().decode([JSONValue].self, from: Data(list.output.utf8))
        #expect(listed.count == 2)
        #expect(listed.map { $0["dedupe_key"]?.stringValue } == ["order-7|line-2", "order-7|line-1"])

        let failed = try runRegistrar(["jobs", "list", "--state", "failed", "--source", "ann@"], database: database)
        #expect(failed.output.contains("order") == false && failed.output.contains("No course 'C1'"))

        let show = try runRegistrar(["jobs", "show", "1", "--json"], database: database)
        let shown = try JSONDecoder().decode(JSONValue.self, from: Data(show.output.utf8))
        #expect(shown["state"]?.stringValue == "failed")
        #expect(shown["payload"]?["email"]?.stringValue == "ann@example.com")
        #expect(shown["attempt_log"]?.arrayValue?.first?["http_status"]?.stringValue == "400")

        let stats = try runRegistrar(["jobs", "stats", "--json"], database: database)
        let counted = try JSONDecoder().decode(JSONValue.self, from: Data(stats.output.utf8))
        #expect(counted["by_state"]?["failed"]?.stringValue == "1")
        #expect(counted["by_state"]?["queued"]?.stringValue == "1")

        let dry = try runRegistrar(["jobs", "replay", "--failed", "--dry-run", "--json"], database: database)
        #expect(dry.status == 0)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(dry.output.utf8))["applied"]?.arrayValue?.count == 1)
        #expect(try await store.job(id: 1)?.state == .failed)

        let refused = try runRegistrar(["jobs", "cancel", "1", "2", "77"], database: database)
        #expect(refused.status == 1 && refused.output.contains("no job 77"))
        #expect(try await store.job(id: 2)?.state == .cancelled)

        let usage = try runRegistrar(["jobs", "replay", "1", "--failed"], database: database)
        #expect(usage.status == 64)
    }

    @Test func checkConfigRedactsSecretsAndRejectsBadFiles() throws {
        let dir = try TemporaryDirectory()
        let good = dir.file("good.yaml")
        try "openedx:\n  client_secret: TOP-SECRET-VALUE\n".write(toFile: good, atomically: true, encoding: .utf8)
        let printed = try runRegistrar(["check-config", "--config", good], database: dir.file("x.sqlite"))
        #expect(printed.status == 0 && printed.output.contains("<redacted>") && !printed.output.contains("TOP-SECRET"))

        let viaEnv = try runRegistrar(["check-config", "--config", good], database: dir.file("x.sqlite"),
                                      environment: ["REGISTRAR_JOBS_CONCURRENCY": "3"])
        #expect(viaEnv.output.contains("concurrency: 3"))

        let bad = dir.file("bad.yaml")
        try "jobs:\n  max_attempts: lots\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let rejected = try runRegistrar(["check-config", "--config", bad], database: dir.file("x.sqlite"))
        #expect(rejected.status == 1)
        #expect(rejected.output.contains("bad.yaml: jobs.max_attempts: expected a whole number"))
    }
}
