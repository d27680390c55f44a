import Foundation
import GRDB
import RegistrarCore
@testable import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

@Suite struct MigrationTests {
    /// A database an older version left with two jobs of one key running (the replay defect) upgrades: the
    /// earliest keeps running, the others are given back without their attempt counting.
    @Test func v8GivesBackTheLaterOfTwoRunningJobsOfAKey() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("registrar.sqlite")
        do {
            let old = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(old, upTo: "v7: lighter job indexes")
            try await old.write { db in
                for (id, state, serial) in [(1, "running", "k"), (2, "running", "k"), (3, "running", "other"), (4, "queued", "k")] {
                    try db.execute(sql: """
                        INSERT INTO jobs (id, kind, state, dedupe_key, serial_key, payload, attempts, max_attempts, run_at,
                                          lease_owner, lease_expires_at, source, created_at, updated_at)
                        VALUES (?, 'enroll', ?, ?, ?, '{}', 1, 5, '2026-01-01 00:00:00.000', 'old/w0',
                                '2099-01-01 00:00:00.000', 'test', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
                        """, arguments: [id, state, "job-\(id)", serial])
                    try db.execute(sql: """
                        INSERT INTO job_attempts (job_id, attempt, worker, started_at, outcome)
                        VALUES (?, 1, 'old/w0', '2026-01-01 00:00:00.000', 'running')
                        """, arguments: [id])
                }
            }
            try old.close()
        }
        let store = try makeStore(dir)
        let states = try await (1...4).asyncMap { try await store.job(id: Int64($0)) }
        #expect(states.map { $0?.state } == [.running, .queued, .running, .queued])
        #expect(states[1]?.attempts == 0 && states[1]?.leaseOwner == nil)
        #expect(try await store.attempts(ofJob: 2).map(\.outcome) == ["released"])
        #expect(try await store.attempts(ofJob: 1).map(\.outcome) == ["running"])
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
