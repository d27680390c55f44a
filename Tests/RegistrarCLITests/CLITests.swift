import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

/// Runs `registrar` with the database chosen through the environment, as an operator's shell would.
func runRegistrar(_ arguments: [String], database: String, environment extra: [String: String] = [:]) async throws
    -> ProcessResult {
    var environment = extra
    environment["REGISTRAR_DATABASE"] = database
    return try await runRegistrar(arguments, workingDirectory: URL(fileURLWithPath: database).deletingLastPathComponent().path,
                            environment: environment)
}

func openStore(_ dir: TemporaryDirectory) throws -> SQLiteStore {
    try SQLiteStore(path: dir.file("registrar.sqlite"), options: StoreOptions(jobs: JobsConfig()))
}

func job(_ key: String, kind: JobKind = .enroll, serial: String? = nil, payload: String = "{}") -> NewJob {
    NewJob(kind: kind, dedupeKey: key, serialKey: serial, payload: payload, source: "test")
}

@Suite struct CLITests {
    @Test func jobsCommandsWorkOnTheDatabaseAndSpeakJSON() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let store = try openStore(dir)
        _ = try await store.enqueue([job("order-7|line-1", serial: "ann@example.com|C1", payload: #"{"email":"ann@example.com"}"#),
                                     job("order-7|line-2", kind: .unenroll)])
        let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
        try await store.finish(claimed, outcome: .permanent(reason: "No course 'C1' found for enrollment", httpStatus: 400))

        let list = try await runRegistrar(["jobs", "list", "--json"], database: database)
        #expect(list.status == 0)
        let listed = try JSONDecoder().decode([JSONValue].self, from: Data(list.output.utf8))
        #expect(listed.count == 2)
        #expect(listed.map { $0["dedupe_key"]?.stringValue } == ["order-7|line-2", "order-7|line-1"])

        let failed = try await runRegistrar(["jobs", "list", "--state", "failed", "--source", "ann@"], database: database)
        #expect(failed.output.contains("order") == false && failed.output.contains("No course 'C1'"))

        let show = try await runRegistrar(["jobs", "show", "1", "--json"], database: database)
        let shown = try JSONDecoder().decode(JSONValue.self, from: Data(show.output.utf8))
        #expect(shown["state"]?.stringValue == "failed")
        #expect(shown["payload"]?["email"]?.stringValue == "ann@example.com")
        #expect(shown["attempt_log"]?.arrayValue?.first?["http_status"]?.stringValue == "400")

        let stats = try await runRegistrar(["jobs", "stats", "--json"], database: database)
        let counted = try JSONDecoder().decode(JSONValue.self, from: Data(stats.output.utf8))
        #expect(counted["by_state"]?["failed"]?.stringValue == "1")
        #expect(counted["by_state"]?["queued"]?.stringValue == "1")

        let dry = try await runRegistrar(["jobs", "replay", "--failed", "--dry-run", "--json"], database: database)
        #expect(dry.status == 0)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(dry.output.utf8))["applied"]?.arrayValue?.count == 1)
        #expect(try await store.job(id: 1)?.state == .failed)

        let refused = try await runRegistrar(["jobs", "cancel", "1", "2", "77"], database: database)
        #expect(refused.status == 1 && refused.output.contains("no job 77"))
        #expect(try await store.job(id: 2)?.state == .cancelled)

        let usage = try await runRegistrar(["jobs", "replay", "1", "--failed"], database: database)
        #expect(usage.status == 64)
    }

    @Test func checkConfigRedactsSecretsAndRejectsBadFiles() async throws {
        let dir = try TemporaryDirectory()
        let good = dir.file("good.yaml")
        try "openedx:\n  client_secret: TOP-SECRET-VALUE\n".write(toFile: good, atomically: true, encoding: .utf8)
        let printed = try await runRegistrar(["check-config", "--config", good], database: dir.file("x.sqlite"))
        #expect(printed.status == 0 && printed.output.contains("<redacted>") && !printed.output.contains("TOP-SECRET"))

        let viaEnv = try await runRegistrar(["check-config", "--config", good], database: dir.file("x.sqlite"),
                                      environment: ["REGISTRAR_JOBS_CONCURRENCY": "3"])
        #expect(viaEnv.output.contains("concurrency: 3"))

        let bad = dir.file("bad.yaml")
        try "jobs:\n  max_attempts: lots\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let rejected = try await runRegistrar(["check-config", "--config", bad], database: dir.file("x.sqlite"))
        #expect(rejected.status == 1)
        #expect(rejected.output.contains("bad.yaml: jobs.max_attempts: expected a whole number"))
    }
}
