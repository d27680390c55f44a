import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarStore
import Synchronization
import TestSupport
import Testing

/// Several Registrar instances on one PostgreSQL database: each race here passes on one process by accident and
/// fails on a naive port (no SKIP LOCKED, a dedupe check before the insert, no guard on a key's running job).
@Suite struct PostgresInstancesTests {
    /// A fresh, migrated database, and `count` stores on it (each its own connection pool, as instances have).
    static func instances(_ count: Int = 2, lease: Duration = .seconds(30)) async throws -> [PostgresStore] {
        let url = try await Backends.freshPostgresDatabase()
        _ = try await PostgresStore.migrate(url)
        let options = Backends.options(maxAttempts: 5, lease: lease, base: .seconds(2), cap: .seconds(60))
        var stores: [PostgresStore] = []
        for _ in 0..<count { stores.append(try await PostgresStore.open(url, options: options, maximumConnections: 6)) }
        return stores
    }

    @Test func enqueuesOfOneKeyThroughTwoInstancesMakeOneJob() async throws {
        let stores = try await Self.instances()
        defer { stores.forEach { $0.close() } }
        let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await stores[index % 2].enqueue([job("order-1|line-\(index % 5)", serial: "ann@example.com|C\(index % 5)")],
                                                        delivery: NewDelivery(source: "test", body: Array("d\(index)".utf8),
                                                                              verdict: "accepted", httpStatus: 200))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(try await stores[0].jobs(JobFilter(limit: 1000)).count == 5)
        #expect(results.flatMap(\.jobs).filter(\.created).count == 5)
        let idsByKey = Dictionary(grouping: results.flatMap(\.jobs), by: \.dedupeKey).mapValues { Set($0.map(\.id)) }
        #expect(idsByKey.count == 5 && idsByKey.values.allSatisfy { $0.count == 1 }, "callers disagree on a key's job")
        #expect(try await stores[1].deliveries(DeliveryFilter(limit: 1000)).count == 200)
    }

    /// Eight workers, four per instance, drain 20 keys of 6 jobs each: every job runs once, a key's jobs run one
    /// at a time and in the order they were enqueued.
    @Test func workersOnTwoInstancesRunEachKeyOneAtATimeInOrder() async throws {
        let stores = try await Self.instances()
        defer { stores.forEach { $0.close() } }
        var jobs: [NewJob] = []
        for round in 0..<6 {
            for key in 0..<20 { jobs.append(job("k\(key)-\(round)", serial: "learner\(key)@example.com|C")) }
        }
        _ = try await stores[0].enqueue(jobs)
        let ledger = RunLedger()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                let store = stores[worker % 2]
                group.addTask {
                    var idle = 0
                    while idle < 20 {
                        let claimed = try await store.claim(owner: "w\(worker)", limit: 2)
                        if claimed.isEmpty {
                            idle += 1
                            try await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                        idle = 0
                        for item in claimed {
                            let key = item.job.serialKey ?? ""
                            ledger.state.withLock { ledger in
                                if !ledger.running.insert(key).inserted { ledger.overlaps.append(key) }
                                ledger.runs[key, default: []].append(item.job.id)
                            }
                            try await Task.sleep(for: .milliseconds(2))
                            ledger.state.withLock { _ = $0.running.remove(key) }
                            try await store.finish(item, outcome: .success())
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let result = ledger.state.withLock { $0 }
        #expect(result.overlaps.isEmpty, "two jobs of one key ran at once: \(result.overlaps)")
        #expect(result.runs.count == 20)
        #expect(result.runs.values.allSatisfy { $0.count == 6 && $0 == $0.sorted() }, "a key's jobs ran out of order or twice")
        let succeeded = try await stores[1].jobs(JobFilter(state: .succeeded, limit: 1000))
        #expect(succeeded.count == 120 && succeeded.allSatisfy { $0.attempts == 1 })
    }

    /// An operator on one instance replays a key's earlier failed job while a later job of the key runs on the
    /// other: the replayed job waits for it, however often the two race.
    @Test func aReplayRacingARunningJobOfItsKeyWaitsForIt() async throws {
        let stores = try await Self.instances()
        defer { stores.forEach { $0.close() } }
        for round in 0..<10 {
            let key = "ann@example.com|C\(round)"
            _ = try await stores[0].enqueue([job("first-\(round)", serial: key), job("second-\(round)", serial: key)])
            let first = try #require(try await stores[0].claim(owner: "a", limit: 10).first { $0.job.serialKey == key })
            try await stores[0].finish(first, outcome: .permanent(reason: "no such course"))
            let second = try #require(try await stores[1].claim(owner: "b", limit: 10).first { $0.job.serialKey == key })
            // The replay and claims from both instances at once: nobody may start the first job beside the second.
            async let replay = stores[0].replay(ids: [first.job.id], actor: "t")
            async let claimA = stores[0].claim(owner: "a", limit: 10)
            async let claimB = stores[1].claim(owner: "b", limit: 10)
            #expect(try await replay.applied == [first.job.id])
            let raced = try await claimA + claimB
            #expect(!raced.contains { $0.job.id == first.job.id }, "round \(round): the replayed job ran beside the running one")
            #expect(try await stores[1].claim(owner: "b", limit: 10).isEmpty)
            try await stores[1].finish(second, outcome: .success())
            #expect(try await stores[0].claim(owner: "a", limit: 10).map(\.job.id) == [first.job.id])
        }
    }

    /// Forty deliveries of one order, half through each instance, at once: decided one after the other, so the
    /// order's two lines get one enroll job each and every delivery lists those same two jobs.
    @Test func deliveriesOfOneOrderThroughTwoInstancesAreDecidedInTurn() async throws {
        let stores = try await Self.instances()
        defer { stores.forEach { $0.close() } }
        let fixture = IntakeLedgerConformance()
        let outcomes = try await withThrowingTaskGroup(of: WooIntakeOutcome.self) { group in
            for index in 0..<40 {
                group.addTask {
                    try await stores[index % 2].recordWooCommerce(.prepared(fixture.order(500), rules: fixture.rules),
                                                                  delivery: fixture.delivery("d\(index)"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.flatMap(\.jobs).filter(\.created).count == 2)
        #expect(Set(outcomes.map { $0.jobs.map(\.id) }).count == 1, "deliveries disagree on the order's jobs")
        #expect(try await stores[0].jobs(JobFilter(limit: 100)).count == 2)
        #expect(try await stores[1].deliveries(DeliveryFilter(limit: 100)).count == 40)
    }

    /// 64 learners redeem one one-time code at once, through two instances: one gets it, 63 are told it is spent,
    /// and there is one enroll job.
    @Test func sixtyFourRedemptionsOfOneCodeThroughTwoInstancesGrantItOnce() async throws {
        let stores = try await Self.instances()
        defer { stores.forEach { $0.close() } }
        let code = try #require(try await stores[0].createCodes(NewCodes(count: 1, courseID: "course-v1:edX+DemoX+2026", mode: "verified",
                                                                         source: "order", sourceReference: "main:727:311")).first).code
        let outcomes = try await withThrowingTaskGroup(of: RedemptionOutcome.self) { group in
            for index in 0..<64 {
                group.addTask { try await stores[index % 2].redeem(code, email: "learner\(index)@example.com", checkout: nil) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let redeemed = outcomes.filter { if case .redeemed = $0 { true } else { false } }
        let spent = outcomes.filter { if case .refused(.spent, _) = $0 { true } else { false } }
        #expect(redeemed.count == 1 && spent.count == 63, "\(redeemed.count) redeemed, \(spent.count) refused as spent")
        let record = try #require(try await stores[1].code(code))
        #expect(record.state == .redeemed && record.redemptions.count == 1)
        #expect(try await stores[1].jobs(JobFilter(kind: .enroll, limit: 100)).count == 1)
    }

    @Test func aCommitOnOneInstanceWakesTheOther() async throws {
        let stores = try await Self.instances()
        defer { stores.forEach { $0.close() } }
        // The listener may still be connecting: wait until a notification gets through once.
        var woken = false
        for attempt in 0..<20 where !woken {
            await stores[1].jobsAdded.wait(timeout: .milliseconds(1)) // forget an earlier ring
            _ = try await stores[0].enqueue([job("wake-\(attempt)")])
            let started = ContinuousClock.now
            await stores[1].jobsAdded.wait(timeout: .seconds(3))
            woken = ContinuousClock.now - started < .seconds(2)
        }
        #expect(woken, "no enqueue on one instance woke the other's workers")
    }

    @Test func twoMigrationsAtOnceTakeTurnsAndAnUnmigratedDatabaseIsRefused() async throws {
        let url = try await Backends.freshPostgresDatabase()
        let options = StoreOptions(jobs: JobsConfig())
        await #expect { _ = try await PostgresStore.open(url, options: options) } throws: { error in
            "\(error)".contains("schema version 0") && "\(error)".contains("registrar migrate")
        }
        async let one = PostgresStore.migrate(url)
        async let two = PostgresStore.migrate(url)
        let results = try await [one, two]
        #expect(results.map(\.to) == [results[0].to, results[0].to])
        #expect(results.map(\.from).sorted() == [0, results[0].to], "both migrations started from nothing")
        let store = try await PostgresStore.open(url, options: options)
        store.close()
    }
}

/// What the workers saw: keys running now, keys seen running twice at once, each key's job ids in run order.
private final class RunLedger: Sendable {
    struct State {
        var running: Set<String> = []
        var overlaps: [String] = []
        var runs: [String: [Int64]] = [:]
    }

    let state = Mutex(State())
}

/// What instances on one database share: the maintenance lead and the Open edX budget.
@Suite struct PostgresSharingTests {
    @Test func oneInstanceLeadsAndAnotherTakesOverWhenItsTermRunsOut() async throws {
        let stores = try await PostgresInstancesTests.instances()
        defer { stores.forEach { $0.close() } }
        #expect(try await stores[0].lead("maintenance", holder: "a", term: .seconds(2)))
        #expect(try await !stores[1].lead("maintenance", holder: "b", term: .seconds(2)), "two leaders at once")
        #expect(try await stores[0].lead("maintenance", holder: "a", term: .seconds(2)), "the leader lost its own lead")
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await stores[1].lead("maintenance", holder: "b", term: .seconds(30)), "nobody took over a lapsed lead")
        #expect(try await !stores[0].lead("maintenance", holder: "a", term: .seconds(30)))
    }

    /// Two instances taking slots at once share one budget: 20 calls 100 ms apart take at least 1.9 s between them
    /// (a budget per instance would let them through in 0.9 s).
    @Test func twoInstancesShareOneRequestBudget() async throws {
        let stores = try await PostgresInstancesTests.instances()
        defer { stores.forEach { $0.close() } }
        let started = ContinuousClock.now
        let times = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await Task.sleep(for: try await stores[index % 2].takeSlot(interval: .milliseconds(100)))
                    return ContinuousClock.now
                }
            }
            return try await group.reduce(into: [ContinuousClock.Instant]()) { $0.append($1) }
        }
        let span = times.max()! - started
        #expect(span >= .milliseconds(1850), "20 slots of 100 ms shared by two instances were all taken within \(span)")
    }

    @Test func aPauseOnOneInstanceHoldsBackTheOther() async throws {
        let stores = try await PostgresInstancesTests.instances()
        defer { stores.forEach { $0.close() } }
        // Long enough that a busy machine's delay between the two calls cannot eat it.
        try await stores[0].pauseEveryone(for: .seconds(60))
        let wait = try await stores[1].takeSlot(interval: .milliseconds(100))
        #expect(wait >= .seconds(45) && wait <= .seconds(60), "a slot after a 60 s pause waits \(wait)")
    }
}
