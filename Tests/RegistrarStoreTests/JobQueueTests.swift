import Foundation
import GRDB
import RegistrarCore
import RegistrarStore
import Testing

@Suite struct JobQueueTests {
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
            // The shapes of the store's own queries: the queue counts, and replay's look for a later unenroll.
            let plans = try [
                "SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state",
                "SELECT id FROM jobs WHERE serial_key = 'a' AND kind = 'unenroll' AND state = 'succeeded' AND id > 1",
            ].map { sql in try String.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, adapter: SuffixRowAdapter(fromIndex: 3)).joined(separator: "; ") }
            return (indexes, plans)
        }
        #expect(indexes == ["jobs_dedupe", "jobs_due", "jobs_kind_state", "jobs_leases", "jobs_serial_open", "jobs_succeeded",
                            "jobs_unenrolled"])
        #expect(plans[0].contains("COVERING INDEX jobs_kind_state"), "\(plans[0])")
        #expect(!plans[0].contains("TEMP B-TREE"), "\(plans[0])")
        #expect(plans[1].contains("INDEX jobs_unenrolled (serial_key=? AND id>?)"), "\(plans[1])")
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

    @Test func concurrentEnqueuesOfOneKeyMakeOneJob() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await store.enqueue([job("order-1|line-\(index % 5)")],
                                            delivery: NewDelivery(source: "test", body: Array("d\(index)".utf8),
                                                                  verdict: "accepted", httpStatus: 200))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let all = try await store.jobs(JobFilter(limit: 1000))
        #expect(all.count == 5)
        #expect(results.flatMap(\.jobs).filter(\.created).count == 5)
        // Every caller learned the id of the one job for its key.
        let idsByKey = Dictionary(grouping: results.flatMap(\.jobs), by: \.dedupeKey).mapValues { Set($0.map(\.id)) }
        #expect(idsByKey.values.allSatisfy { $0.count == 1 })
        // Every delivery was recorded, and points at its job.
        let deliveries = try await store.deliveries(DeliveryFilter(limit: 1000))
        #expect(deliveries.count == 200)
        #expect(deliveries.allSatisfy { $0.jobIDs.count == 1 })
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

    @Test func claimLeasesAndCountsTheAttempt() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        _ = try await store.enqueue([job("a"), job("b"), NewJob(kind: .enroll, dedupeKey: "later", payload: "{}", source: "t",
                                                                  runAt: clock.now().addingTimeInterval(60))])
        let claimed = try await store.claim(owner: "w1", limit: 10)
        #expect(claimed.map(\.job.dedupeKey) == ["a", "b"])
        #expect(claimed.allSatisfy { $0.job.state == .running && $0.job.attempts == 1 && $0.job.leaseOwner == "w1" })
        #expect(try await store.claim(owner: "w2", limit: 10).isEmpty)
        clock.advance(61)
        #expect(try await store.claim(owner: "w2", limit: 10).map(\.job.dedupeKey) == ["later"])
    }

    @Test func serialKeyAllowsOneOpenJobAtATimeInCreationOrder() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        _ = try await store.enqueue([
            job("e1", serial: "ann@example.com|C1"),
            job("u1", kind: .unenroll, serial: "ann@example.com|C1"),
            job("e2", serial: "bob@example.com|C1"),
        ])
        var claimed = try await store.claim(owner: "w", limit: 10)
        #expect(claimed.map(\.job.dedupeKey) == ["e1", "e2"])
        // While e1 retries in backoff, u1 must still wait behind it.
        let e1 = claimed.first { $0.job.dedupeKey == "e1" }!
        #expect(try await store.finish(e1, outcome: .transient(reason: "503")) == .queued)
        #expect(try await store.claim(owner: "w", limit: 10).isEmpty)
        clock.advance(3)
        claimed = try await store.claim(owner: "w", limit: 10)
        #expect(claimed.map(\.job.dedupeKey) == ["e1"])
        #expect(try await store.finish(claimed[0], outcome: .success()) == .succeeded)
        #expect(try await store.claim(owner: "w", limit: 10).map(\.job.dedupeKey) == ["u1"])
    }

    @Test func finishThenClaimTakesTheNextJobInTheSameCommit() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        _ = try await store.enqueue([
            job("e1", serial: "ann@example.com|C1"),
            job("u1", kind: .unenroll, serial: "ann@example.com|C1"),
        ])
        let first = try await store.claim(owner: "w", limit: 1)
        #expect(first.map(\.job.dedupeKey) == ["e1"])
        let before = store.writeStats.transactions
        // u1 waits behind e1 until e1 has succeeded; the claim in the same commit must already see that.
        let (state, next) = try await store.finish(first[0], outcome: .success(), thenClaim: 1)
        #expect(state == .succeeded)
        #expect(next.map(\.job.dedupeKey) == ["u1"])
        #expect(next.allSatisfy { $0.job.state == .running && $0.job.attempts == 1 && $0.owner == "w" })
        #expect(store.writeStats.transactions - before == 1)
        // The claimed job is leased and its attempt is open, exactly as a plain claim leaves it.
        #expect(try await store.claim(owner: "other", limit: 10).isEmpty)
        let last = try await store.finish(next[0], outcome: .success(), thenClaim: 1)
        #expect(last.state == .succeeded && last.next.isEmpty)
        let attempts = try await store.attempts(ofJob: next[0].job.id)
        #expect(attempts.map(\.outcome) == ["succeeded"])
    }

    @Test func finishOfALostLeaseStillClaimsNothingItShouldNot() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, lease: .seconds(10))
        _ = try await store.enqueue([job("a")])
        let claimed = try await store.claim(owner: "w1", limit: 1)
        clock.advance(11)
        #expect(try await store.rescueExpiredLeases() == 1)
        // w1 comes back late: its outcome is not applied, and the claim that follows finds "a" due again.
        let (state, next) = try await store.finish(claimed[0], outcome: .success(), thenClaim: 1)
        #expect(state == nil)
        #expect(next.map(\.job.dedupeKey) == ["a"])
        #expect(next.first?.job.attempts == 2)
    }

    /// Read-your-writes across the pool: once `write` has returned, a read started after it sees the commit,
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

    @Test func backoffScheduleAndRetryAfterSetTheNextRun() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, maxAttempts: 10, base: .seconds(2), cap: .seconds(10))
        _ = try await store.enqueue([job("a")])
        var delays: [TimeInterval] = []
        for _ in 0..<5 {
            let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
            try await store.finish(claimed, outcome: .transient(reason: "503", httpStatus: 503))
            let queued = try #require(try await store.job(id: claimed.job.id))
            delays.append(queued.runAt.timeIntervalSince(clock.now()))
            #expect(queued.lastError == "503" && queued.lastHTTPStatus == 503)
            clock.advance(queued.runAt.timeIntervalSince(clock.now()))
        }
        #expect(delays.map { ($0 * 1000).rounded() / 1000 } == [2, 4, 8, 10, 10])
        let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
        try await store.finish(claimed, outcome: .transient(reason: "429", retryAfter: .seconds(42), httpStatus: 429))
        let throttled = try #require(try await store.job(id: claimed.job.id))
        #expect(throttled.runAt == clock.now().addingTimeInterval(42))
        clock.advance(41)
        #expect(try await store.claim(owner: "w", limit: 1).isEmpty, "retried sooner than Retry-After")
        clock.advance(1)
        #expect(try await store.claim(owner: "w", limit: 1).count == 1)
    }

    @Test func exhaustedAttemptsFailTheJobWithAllAttemptsRecorded() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, maxAttempts: 3)
        _ = try await store.enqueue([job("a")])
        var last: JobState?
        for _ in 0..<3 {
            clock.advance(3600)
            let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
            last = try await store.finish(claimed, outcome: .transient(reason: "timeout"))
        }
        #expect(last == .failed)
        let detail = try #require(try await store.jobDetail(id: 1))
        #expect(detail.job.state == .failed && detail.job.lastError == "attempts exhausted (3 of 3): timeout")
        #expect(detail.attempts.map(\.outcome) == ["transient", "transient", "transient"])
        #expect(detail.attempts.map(\.attempt) == [1, 2, 3])
        clock.advance(3600)
        #expect(try await store.claim(owner: "w", limit: 1).isEmpty)
    }

    @Test func permanentOutcomeFailsAndRecordsStatusAndMessage() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        _ = try await store.enqueue([job("a")])
        let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
        #expect(try await store.finish(claimed, outcome: .permanent(reason: "No course 'x' found for enrollment", httpStatus: 400)) == .failed)
        let attempts = try await store.attempts(ofJob: claimed.job.id)
        #expect(attempts.count == 1)
        #expect(attempts[0].httpStatus == 400 && attempts[0].error == "No course 'x' found for enrollment")
        #expect(attempts[0].outcome == "permanent" && attempts[0].durationMilliseconds != nil)
    }

    @Test func expiredLeaseReturnsTheJobAndCountsTheAttempt() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, maxAttempts: 2, lease: .seconds(30))
        _ = try await store.enqueue([job("a")])
        let crashed = try #require(try await store.claim(owner: "dead-worker", limit: 1).first)
        clock.advance(29)
        #expect(try await store.rescueExpiredLeases() == 0)
        clock.advance(2)
        #expect(try await store.rescueExpiredLeases() == 1)
        var rescued = try #require(try await store.job(id: crashed.job.id))
        #expect(rescued.state == .queued && rescued.attempts == 1 && rescued.leaseOwner == nil)
        // The late finish of the crashed attempt changes nothing: the lease is no longer its.
        #expect(try await store.finish(crashed, outcome: .success()) == nil)
        #expect(try await store.job(id: crashed.job.id)?.state == .queued)

        let second = try #require(try await store.claim(owner: "w2", limit: 1).first)
        #expect(second.job.attempts == 2)
        clock.advance(31)
        #expect(try await store.rescueExpiredLeases() == 1)
        rescued = try #require(try await store.job(id: crashed.job.id))
        #expect(rescued.state == .failed, "a job that used every attempt by crashing must stop")
        #expect(try await store.attempts(ofJob: crashed.job.id).map(\.outcome) == ["succeeded", "lease_expired"])
    }

    @Test func leaseExtensionKeepsALongAttemptFromRescue() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, lease: .seconds(30))
        _ = try await store.enqueue([job("a")])
        let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
        clock.advance(20)
        #expect(try await store.extendLease(claimed))
        clock.advance(20)
        #expect(try await store.rescueExpiredLeases() == 0)
        #expect(try await store.finish(claimed, outcome: .success()) == .succeeded)
    }

    @Test func releasedLeasesAreDueAtOnceWithoutCountingTheAttempt() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        _ = try await store.enqueue([job("a"), job("b")])
        _ = try await store.claim(owner: "host:1:abc/w0", limit: 1)
        _ = try await store.claim(owner: "other:2:def/w0", limit: 1)
        #expect(try await store.releaseLeases(ownerPrefix: "host:1:abc") == 1)
        let a = try #require(try await store.job(id: 1))
        #expect(a.state == .queued && a.attempts == 0)
        #expect(try await store.job(id: 2)?.state == .running)
    }

    @Test func pruningRemovesOnlyOldSucceededJobs() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, maxAttempts: 1)
        _ = try await store.enqueue([job("ok"), job("bad")])
        for claimed in try await store.claim(owner: "w", limit: 2) {
            try await store.finish(claimed, outcome: claimed.job.dedupeKey == "ok" ? .success() : .permanent(reason: "no"))
        }
        #expect(try await store.pruneSucceeded(finishedBefore: clock.now().addingTimeInterval(-10)) == 0)
        clock.advance(100)
        #expect(try await store.pruneSucceeded(finishedBefore: clock.now().addingTimeInterval(-10)) == 1)
        #expect(try await store.jobs(JobFilter()).map(\.dedupeKey) == ["bad"])
        #expect(try await store.attempts(ofJob: 1).isEmpty)
    }
}
