import Foundation
import GRDB
import RegistrarCore
@testable import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

/// What only the SQLite backend has: durability pragmas, its indexes, the group-committing writer.
@Suite struct SQLiteWriterTests {
    @Test func databaseIsWALWithFullSync() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let pragmas = try await store.pragmas()
        #expect(pragmas.journalMode == "wal")
        #expect(pragmas.synchronous == 2) // FULL
    }

    /// Every index on jobs is paid for by every insert, so each must serve a query; and the queries that run
    /// against a table of millions must find theirs.
    @Test func jobIndexesAreTheOnesTheQueriesUse() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let (indexes, plans) = try await store.write { db in
            let indexes = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL ORDER BY name
                """)
            // The shapes of the store's own queries: the queue counts, replay's look for a later unenroll, and the
            // claim's look for a running job of the same key.
            let plans = try [
                "SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state",
                "SELECT id FROM jobs WHERE serial_key = 'a' AND kind = 'unenroll' AND state = 'succeeded' AND id > 1",
                "SELECT 1 FROM jobs r WHERE r.serial_key = 'a' AND r.state = 'running'",
                "SELECT id FROM jobs WHERE serial_key = 'a' AND state IN ('queued', 'running') AND kind = 'unenroll' AND id > 1",
                "SELECT id FROM deliveries WHERE received_at < '9' AND id NOT IN (SELECT delivery_id FROM jobs WHERE delivery_id IS NOT NULL)",
                // The console's searches: a learner's jobs, an order's, a delivery's, a page of one kind and state.
                "SELECT * FROM jobs WHERE serial_key >= 'a|' AND serial_key < 'a}' ORDER BY id DESC LIMIT 50",
                "SELECT * FROM jobs WHERE dedupe_key >= 'order:R-1:' AND dedupe_key < 'order:R-1;' ORDER BY id DESC LIMIT 50",
                "SELECT * FROM jobs WHERE id IN (SELECT value FROM json_each((SELECT job_ids FROM deliveries WHERE id = 1))) ORDER BY id DESC LIMIT 50",
                "SELECT * FROM jobs INDEXED BY jobs_kind_state WHERE kind = 'enroll' AND state = 'failed' AND id < 9 ORDER BY id DESC LIMIT 50",
            ].map { sql in try String.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, adapter: SuffixRowAdapter(fromIndex: 3)).joined(separator: "; ") }
            return (indexes, plans)
        }
        #expect(indexes == ["jobs_dedupe", "jobs_due", "jobs_kind_state", "jobs_learner", "jobs_leases", "jobs_serial_open",
                            "jobs_serial_running", "jobs_succeeded", "jobs_unenrolled"])
        #expect(plans[0].contains("COVERING INDEX jobs_kind_state"), "\(plans[0])")
        #expect(!plans[0].contains("TEMP B-TREE"), "\(plans[0])")
        #expect(plans[1].contains("INDEX jobs_unenrolled (serial_key=? AND id>?)"), "\(plans[1])")
        #expect(plans[2].contains("INDEX jobs_serial_running (serial_key=?)"), "\(plans[2])")
        #expect(plans[3].contains("INDEX jobs_serial_open (serial_key=? AND id>?)"), "\(plans[3])")
        // No index on jobs.delivery_id (every intake commit would pay for it): pruning reads the jobs once per
        // batch, as a list, not once per delivery.
        #expect(plans[4].contains("LIST SUBQUERY"), "\(plans[4])")
        #expect(!plans[4].contains("CORRELATED"), "\(plans[4])")
        #expect(plans[5].contains("INDEX jobs_learner (serial_key>? AND serial_key<?)"), "\(plans[5])")
        #expect(plans[6].contains("INDEX jobs_dedupe (dedupe_key>? AND dedupe_key<?)"), "\(plans[6])")
        #expect(plans[7].contains("INTEGER PRIMARY KEY (rowid=?)"), "\(plans[7])")
        #expect(plans[8].contains("INDEX jobs_kind_state (kind=? AND state=? AND rowid<?)") && !plans[8].contains("TEMP B-TREE"), "\(plans[8])")
    }

    /// The rule "one running job per serial key" is the database's, not only the claim query's.
    @Test func theDatabaseRefusesASecondRunningJobOfAKey() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        _ = try await store.enqueue([job("a", serial: "k"), job("b", serial: "k"), job("c"), job("d")])
        _ = try await store.claim(owner: "w", limit: 10)
        await #expect(throws: DatabaseError.self) {
            try await store.write { db in try db.execute(sql: "UPDATE jobs SET state = 'running' WHERE dedupe_key = 'b'") }
        }
        // Jobs without a serial key run side by side.
        #expect(try await store.jobs(JobFilter(state: .running)).map(\.dedupeKey).sorted() == ["a", "c", "d"])
    }

    /// Intake tells `insert` which keys it has just found on no job, so the insert itself must catch a key that
    /// exists after all (or twice in one call) and answer with the job that has it.
    @Test func anInsertThatConflictsAnswersWithTheJobThatHasTheKey() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let first = try await store.enqueue([job("k1")])
        let inserted = try await store.write { db in
            try JobTable.insert([job("k1"), job("k2"), job("k2")], deliveryID: nil, defaultMaxAttempts: 3, now: Date(),
                                knownAbsent: ["k1", "k2"], in: db)
        }
        #expect(inserted.count == 3)
        #expect(inserted[0].id == first.jobs[0].id && !inserted[0].created && inserted[0].dedupeKey == "k1")
        #expect(inserted[1].created && inserted[1].id != first.jobs[0].id)
        #expect(inserted[2].id == inserted[1].id && !inserted[2].created && inserted[2].dedupeKey == "k2")
        #expect(try await store.jobs(JobFilter(limit: 10)).map(\.id).sorted() == [first.jobs[0].id, inserted[1].id])
    }

    @Test func groupCommitServesManyCallersWithFewTransactions() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let before = store.writeStats
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask { _ = try await store.enqueue([job("k\(index)")]) }
            }
            try await group.waitForAll()
        }
        let after = store.writeStats
        let writes = after.writes - before.writes
        let transactions = after.transactions - before.transactions
        #expect(writes == 400)
        #expect(transactions * 4 < writes, "400 concurrent callers took \(transactions) transactions")
        #expect(after.largestBatch > 1)
        #expect(try await store.jobs(JobFilter(limit: 1000)).count == 400)
    }

    @Test func withoutGroupCommitEveryCallerHasItsOwnTransaction() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir, groupCommit: false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 { group.addTask { _ = try await store.enqueue([job("k\(index)")]) } }
            try await group.waitForAll()
        }
        #expect(store.writeStats.transactions == store.writeStats.writes)
    }

    @Test func oneCallersErrorDoesNotUndoAnothersWrite() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        struct Boom: Error {}
        let good = Task { try await store.enqueue([job("good")]) }
        let bad = Task {
            try await store.write { db in
                try db.execute(sql: "INSERT INTO operator_actions (at, actor, action) VALUES ('x', 'y', 'z')")
                throw Boom()
            }
        }
        _ = try await good.value
        await #expect(throws: Boom.self) { try await bad.value }
        #expect(try await store.jobs(JobFilter()).count == 1)
        let actions = try await store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM operator_actions") }
        #expect(actions == 0)
    }

    /// Batches run without savepoints until some caller's work throws; then only that caller's writes may go.
    @Test func failingCallersInABatchUndoOnlyTheirOwnWrites() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        struct Boom: Error {}
        let outcomes = await withTaskGroup(of: (Int, Int?).self) { group in
            for index in 0..<300 {
                group.addTask {
                    let value = try? await store.write { db -> Int in
                        try db.execute(sql: "INSERT INTO operator_actions (at, actor, action) VALUES ('x', ?, 'z')",
                                       arguments: ["caller \(index)"])
                        if index % 7 == 0 { throw Boom() }
                        return index * 2
                    }
                    return (index, value)
                }
            }
            return await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }.sorted { $0.0 < $1.0 }
        }
        #expect(outcomes.count == 300)
        for (index, value) in outcomes {
            #expect(value == (index % 7 == 0 ? nil : index * 2), "caller \(index)")
        }
        let actors = try await store.read { db in try String.fetchAll(db, sql: "SELECT actor FROM operator_actions") }
        #expect(actors.sorted() == (0..<300).filter { $0 % 7 != 0 }.map { "caller \($0)" }.sorted())
        #expect(store.writeStats.largestBatch > 1)
    }

    /// A worker records an outcome and claims its next job in one commit: one flush per job, not two.
    @Test func finishThenClaimIsOneCommit() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        _ = try await store.enqueue([job("e1", serial: "k"), job("u1", kind: .unenroll, serial: "k")])
        let first = try await store.claim(owner: "w", limit: 1)
        let before = store.writeStats.transactions
        let (_, next) = try await store.finish(first[0], outcome: .success(), thenClaim: 1)
        #expect(next.map(\.job.dedupeKey) == ["u1"])
        #expect(store.writeStats.transactions - before == 1)
    }

    /// Read-your-writes across the pool: once a write has returned, a read started after it sees the commit,
    /// however large the commit and however busy the readers (a benchmark once reported an empty table here).
    @Test func aReadAfterALargeCommitSeesIt() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        var expected = 0
        for round in 0..<12 {
            // Readers keep snapshots open while the writer commits, as workers and /metrics do in serve.
            let readers = Task {
                while !Task.isCancelled { _ = try? await store.stats() }
            }
            let jobs = (0..<1_500).map { job("r\(round)-\($0)") }
            _ = try await store.enqueue(jobs)
            expected += jobs.count
            let seen = try await store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0 }
            readers.cancel()
            #expect(seen == expected, "round \(round): \(seen) of \(expected) jobs visible right after the write")
        }
    }

    @Test func aDatabaseThatCannotBeOpenedSaysSo() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("missing-folder/registrar.sqlite")
        #expect {
            _ = try SQLiteStore(path: path, options: StoreOptions(jobs: JobsConfig()))
        } throws: { error in
            guard case StoreError.cannotOpen(let message) = error else { return false }
            return message.contains("cannot open database \(path)")
        }
    }
}
