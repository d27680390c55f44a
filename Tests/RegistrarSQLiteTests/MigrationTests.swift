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

extension MigrationTests {
    /// A database paid into before the reports existed: its hosted-checkout orders become sales dated by their
    /// payment, its WooCommerce seats (live and pruned enroll jobs) become seats without amounts.
    @Test func v18RecordsWhatWasPaidBefore() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("registrar.sqlite")
        do {
            let old = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(old, upTo: "v17: organizations and contracts")
            try await old.write { db in
                try db.execute(sql: """
                    INSERT INTO orders (reference, email, currency, total, items, status, profile_id, transaction_id, created_at, updated_at)
                    VALUES ('R-OLD', 'sam@example.com', 'USD', '49.00',
                            '[{"course_id":"course-v1:X+A+1","mode":"verified","quantity":1,"unit_price":"49.00","fulfilment":"enroll"}]',
                            'paid', 'p1', 'T1', '2025-11-01 10:00:00.000', '2025-12-15 10:00:00.000');
                    INSERT INTO payments (order_reference, transaction_id, decision, amount, currency, outcome, created_at)
                    VALUES ('R-OLD', 'T1', 'ACCEPT', '49.00', 'USD', 'paid', '2025-11-01 10:05:00.000');
                    INSERT INTO jobs (kind, state, dedupe_key, serial_key, payload, attempts, max_attempts, run_at, source, created_at, updated_at)
                    VALUES ('enroll', 'succeeded', 'woo:main:727:311:enroll', 'zoe@example.com|course-v1:X+A+1',
                            '{"course_id":"course-v1:X+A+1","email":"zoe@example.com","mode":"audit","order_reference":"727"}', 1, 5,
                            '2025-11-02 00:00:00.000', 'woocommerce:main', '2025-11-02 00:00:00.000', '2025-11-02 00:00:00.000');
                    INSERT INTO pruned_jobs (dedupe_key, job_id, kind, serial_key, finished_at)
                    VALUES ('woo:shop-2:90:901:enroll', 7, 'enroll', 'ann@example.com|course-v1:X+A+1', '2025-10-01 00:00:00.000');
                    """)
            }
            try old.close()
        }
        let store = try makeStore(dir)
        let lines = try await store.saleLines(courseID: "course-v1:X+A+1").sorted { $0.orderRef < $1.orderRef }
        #expect(lines.map(\.orderRef) == ["R-OLD", "main:727", "shop-2:90"], "\(lines)")
        #expect(lines.map(\.line) == [0, 311, 901])
        #expect(lines[0].gross == 49 && StoredDate.text(lines[0].paidAt).hasPrefix("2025-11-01 10:05:00"), "dated by its payment, not its last update")
        #expect(lines[1].email == "zoe@example.com" && lines[1].currency == "XXX" && lines[1].enrollKey == "woo:main:727:311:enroll")
        #expect(lines[2].email == "ann@example.com" && lines[2].courseID == "course-v1:X+A+1")
        let seats = SeatsReport.compute(courseID: "course-v1:X+A+1", lines: lines, refunds: [], codes: [], staff: [])
        #expect(seats.paidSingleSeats == 3)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
