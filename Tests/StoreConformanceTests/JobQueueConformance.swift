import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `JobQueue`: enqueue with dedupe, claims in per-key order, outcomes, leases, rescue, pruning.
@Suite struct JobQueueConformance {
    @Test(arguments: Backends.all)
    func concurrentEnqueuesOfOneKeyMakeOneJob(_ backend: StoreBackend) async throws {
        try await backend.with { store in
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
            #expect(try await store.jobs(JobFilter(limit: 1000)).count == 5)
            #expect(results.flatMap(\.jobs).filter(\.created).count == 5)
            // Every caller learned the id of the one job for its key.
            let idsByKey = Dictionary(grouping: results.flatMap(\.jobs), by: \.dedupeKey).mapValues { Set($0.map(\.id)) }
            #expect(idsByKey.values.allSatisfy { $0.count == 1 })
            // Every delivery was recorded, and points at its job.
            let deliveries = try await store.deliveries(DeliveryFilter(limit: 1000))
            #expect(deliveries.count == 200)
            #expect(deliveries.allSatisfy { $0.jobIDs.count == 1 })
        }
    }

    @Test(arguments: Backends.all)
    func claimLeasesAndCountsTheAttempt(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            _ = try await store.enqueue([job("a"), job("b"), NewJob(kind: .enroll, dedupeKey: "later", payload: "{}",
                                                                      source: "t", runAt: clock.now().addingTimeInterval(60))])
            let claimed = try await store.claim(owner: "w1", limit: 10)
            #expect(claimed.map(\.job.dedupeKey) == ["a", "b"])
            #expect(claimed.allSatisfy { $0.job.state == .running && $0.job.attempts == 1 && $0.job.leaseOwner == "w1" })
            #expect(try await store.claim(owner: "w2", limit: 10).isEmpty)
            clock.advance(61)
            #expect(try await store.claim(owner: "w2", limit: 10).map(\.job.dedupeKey) == ["later"])
        }
    }

    @Test(arguments: Backends.all)
    func serialKeyAllowsOneOpenJobAtATimeInCreationOrder(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            _ = try await store.enqueue([
                job("e1", serial: "ann@example.com|C1"),
                job("u1", kind: .unenroll, serial: "ann@example.com|C1"),
                job("e2", serial: "bob@example.com|C1"),
            ])
            var claimed = try await store.claim(owner: "w", limit: 10)
            #expect(claimed.map(\.job.dedupeKey) == ["e1", "e2"])
            // While e1 retries in backoff, u1 must still wait behind it.
            let e1 = try #require(claimed.first { $0.job.dedupeKey == "e1" })
            #expect(try await store.finish(e1, outcome: .transient(reason: "503")) == .queued)
            #expect(try await store.claim(owner: "w", limit: 10).isEmpty)
            clock.advance(3)
            claimed = try await store.claim(owner: "w", limit: 10)
            #expect(claimed.map(\.job.dedupeKey) == ["e1"])
            #expect(try await store.finish(claimed[0], outcome: .success()) == .succeeded)
            #expect(try await store.claim(owner: "w", limit: 10).map(\.job.dedupeKey) == ["u1"])
        }
    }

    /// An operator replays an earlier failed job while a later job of the same key runs: the replayed job must
    /// wait for the running one, not run beside it.
    @Test(arguments: Backends.all)
    func aReplayedEarlierJobWaitsWhileALaterJobOfItsKeyRuns(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let key = "ann@example.com|C1"
            _ = try await store.enqueue([job("enroll-1", serial: key), job("enroll-2", serial: key)])
            let first = try await store.claim(owner: "w", limit: 10)
            #expect(first.map(\.job.dedupeKey) == ["enroll-1"])
            try await store.finish(first[0], outcome: .permanent(reason: "course closed"))
            // enroll-1 failed, so enroll-2 is the head of the key and runs.
            let second = try await store.claim(owner: "w", limit: 10)
            #expect(second.map(\.job.dedupeKey) == ["enroll-2"])
            #expect(try await store.replay(ids: [first[0].job.id], actor: "t").applied == [first[0].job.id])
            #expect(try await store.claim(owner: "w2", limit: 10).isEmpty,
                    "the replayed enroll-1 was claimed while enroll-2 of the same key was running")
            #expect(try await store.jobs(JobFilter(state: .running)).count == 1)
            // Once enroll-2 is done, the replayed job runs.
            try await store.finish(second[0], outcome: .success())
            #expect(try await store.claim(owner: "w2", limit: 10).map(\.job.dedupeKey) == ["enroll-1"])
        }
    }

    @Test(arguments: Backends.all)
    func finishThenClaimTakesTheNextJobOfTheKeyAtOnce(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await store.enqueue([
                job("e1", serial: "ann@example.com|C1"),
                job("u1", kind: .unenroll, serial: "ann@example.com|C1"),
            ])
            let first = try await store.claim(owner: "w", limit: 1)
            #expect(first.map(\.job.dedupeKey) == ["e1"])
            // u1 waits behind e1 until e1 has succeeded; the claim in the same operation must already see that.
            let (state, next) = try await store.finish(first[0], outcome: .success(), thenClaim: 1)
            #expect(state == .succeeded)
            #expect(next.map(\.job.dedupeKey) == ["u1"])
            #expect(next.allSatisfy { $0.job.state == .running && $0.job.attempts == 1 && $0.owner == "w" })
            // The claimed job is leased and its attempt is open, exactly as a plain claim leaves it.
            #expect(try await store.claim(owner: "other", limit: 10).isEmpty)
            let last = try await store.finish(next[0], outcome: .success(), thenClaim: 1)
            #expect(last.state == .succeeded && last.next.isEmpty)
            #expect(try await store.attempts(ofJob: next[0].job.id).map(\.outcome) == ["succeeded"])
        }
    }

    @Test(arguments: Backends.all)
    func finishOfALostLeaseChangesNothingAndClaimsTheJobAgain(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock, lease: .seconds(10)) { store in
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
    }

    @Test(arguments: Backends.all)
    func backoffScheduleAndRetryAfterSetTheNextRun(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock, maxAttempts: 10, base: .seconds(2), cap: .seconds(10)) { store in
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
    }

    @Test(arguments: Backends.all)
    func exhaustedAttemptsFailTheJobWithAllAttemptsRecorded(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock, maxAttempts: 3) { store in
            let id = try #require(try await store.enqueue([job("a")]).jobs.first?.id)
            var last: JobState?
            for _ in 0..<3 {
                clock.advance(3600)
                let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
                last = try await store.finish(claimed, outcome: .transient(reason: "timeout"))
            }
            #expect(last == .failed)
            let detail = try #require(try await store.jobDetail(id: id))
            #expect(detail.job.state == .failed && detail.job.lastError == "attempts exhausted (3 of 3): timeout")
            #expect(detail.attempts.map(\.outcome) == ["transient", "transient", "transient"])
            #expect(detail.attempts.map(\.attempt) == [1, 2, 3])
            clock.advance(3600)
            #expect(try await store.claim(owner: "w", limit: 1).isEmpty)
        }
    }

    @Test(arguments: Backends.all)
    func permanentOutcomeFailsAndRecordsStatusAndMessage(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await store.enqueue([job("a")])
            let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
            #expect(try await store.finish(claimed, outcome: .permanent(reason: "No course 'x' found for enrollment",
                                                                         httpStatus: 400)) == .failed)
            let attempts = try await store.attempts(ofJob: claimed.job.id)
            #expect(attempts.count == 1)
            #expect(attempts[0].httpStatus == 400 && attempts[0].error == "No course 'x' found for enrollment")
            #expect(attempts[0].outcome == "permanent" && attempts[0].durationMilliseconds != nil)
        }
    }

    @Test(arguments: Backends.all)
    func expiredLeaseReturnsTheJobAndCountsTheAttempt(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock, maxAttempts: 2, lease: .seconds(30)) { store in
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
    }

    @Test(arguments: Backends.all)
    func leaseExtensionKeepsALongAttemptFromRescue(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock, lease: .seconds(30)) { store in
            _ = try await store.enqueue([job("a")])
            let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
            clock.advance(20)
            #expect(try await store.extendLease(claimed))
            clock.advance(20)
            #expect(try await store.rescueExpiredLeases() == 0)
            #expect(try await store.finish(claimed, outcome: .success()) == .succeeded)
            #expect(try await store.extendLease(claimed) == false, "a finished job's lease was extended")
        }
    }

    /// Owners are matched by their exact prefix: `_` and `%` in a host name are not wildcards.
    @Test(arguments: Backends.all)
    func releasedLeasesAreDueAtOnceWithoutCountingTheAttempt(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let ids = try await store.enqueue([job("a"), job("b"), job("c")]).jobs.map(\.id)
            _ = try await store.claim(owner: "host_1:1:abc/w0", limit: 1)
            _ = try await store.claim(owner: "hostX1:1:abc/w0", limit: 1)
            _ = try await store.claim(owner: "HOST_1:1:ABC/w0", limit: 1)
            #expect(try await store.releaseLeases(ownerPrefix: "host_1:1:abc") == 1)
            let a = try #require(try await store.job(id: ids[0]))
            #expect(a.state == .queued && a.attempts == 0)
            #expect(try await store.job(id: ids[1])?.state == .running)
            #expect(try await store.job(id: ids[2])?.state == .running)
            #expect(try await store.attempts(ofJob: ids[0]).map(\.outcome) == ["released"])
            #expect(try await store.attempts(ofJob: ids[1]).map(\.outcome) == ["running"])
        }
    }

    @Test(arguments: Backends.all)
    func pruningRemovesOnlyOldSucceededJobsAndKeepsTheirKeys(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock, maxAttempts: 1) { store in
            let ids = try await store.enqueue([job("ok"), job("bad")]).jobs.map(\.id)
            for claimed in try await store.claim(owner: "w", limit: 2) {
                try await store.finish(claimed, outcome: claimed.job.dedupeKey == "ok" ? .success() : .permanent(reason: "no"))
            }
            #expect(try await store.pruneSucceeded(olderThan: .seconds(10)) == 0)
            clock.advance(100)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(10)) == 1)
            #expect(try await store.jobs(JobFilter()).map(\.dedupeKey) == ["bad"])
            #expect(try await store.attempts(ofJob: ids[0]).isEmpty)
            // The same fact again finds its tombstone instead of running again.
            let again = try await store.enqueue([job("ok")])
            #expect(again.jobs.map(\.id) == [ids[0]] && again.jobs.map(\.created) == [false]
                    && again.jobs.map(\.state) == [.succeeded])
        }
    }

    @Test(arguments: Backends.all)
    func pruningWorksInBoundedBatches(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            _ = try await store.enqueue((0..<25).map { job("j\($0)") })
            try await runAll(store) { _ in .success() }
            clock.advance(100)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(10), limit: 10) == 10)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(10), limit: 10) == 10)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(10), limit: 10) == 5)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(10), limit: 10) == 0)
        }
    }

    /// The refund handler's enqueue: an unenroll only where the line's enroll exists, live or pruned.
    @Test(arguments: Backends.all)
    func conditionalJobsAreAddedOnlyWhereTheirPrerequisiteExists(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            // enroll-live failed, so it stays in the table; enroll-pruned succeeded and only its tombstone is left.
            let enrolls = try await store.enqueue([job("enroll-live"), job("enroll-pruned")]).jobs.map(\.id)
            try await runAll(store) { $0.job.dedupeKey == "enroll-live" ? .permanent(reason: "closed") : .success() }
            clock.advance(100)
            _ = try await store.enqueue([job("enroll-other")])
            #expect(try await store.pruneSucceeded(olderThan: .seconds(10)) == 1)
            #expect(try await store.job(id: enrolls[0])?.state == .failed)
            #expect(try await store.job(id: enrolls[1]) == nil)
            let delivery = try await store.recordDelivery(NewDelivery(source: "test", body: [], verdict: "accepted",
                                                                      httpStatus: 200))
            let conditional = [
                ConditionalJob(job("undo-live", kind: .unenroll), requiresDedupeKey: "enroll-live"),
                ConditionalJob(job("undo-pruned", kind: .unenroll), requiresDedupeKey: "enroll-pruned"),
                ConditionalJob(job("undo-missing", kind: .unenroll), requiresDedupeKey: "enroll-never"),
            ]
            let added = try await store.enqueue(conditional, deliveryID: delivery)
            #expect(added.map(\.dedupeKey) == ["undo-live", "undo-pruned"] && added.allSatisfy(\.created))
            #expect(try await store.job(id: added[0].id)?.deliveryID == delivery)
            // Again: found, not added twice.
            let again = try await store.enqueue(conditional, deliveryID: delivery)
            #expect(again.map(\.id) == added.map(\.id) && !again.contains(where: \.created))
        }
    }

    /// Idle workers wait on the doorbell; the store itself rings it whenever a commit may make a job runnable.
    @Test(arguments: Backends.all)
    func theStoreRingsItsDoorbellWhenJobsMayRun(_ backend: StoreBackend) async throws {
        try await backend.with(maxAttempts: 1) { store in
            func rung(_ what: String, _ operation: () async throws -> Void) async throws {
                await store.jobsAdded.wait(timeout: .milliseconds(1)) // forget an earlier ring
                try await operation()
                let started = ContinuousClock.now
                // A ring returns at once; only a missed one waits the whole 30 s (a loaded machine may add seconds).
                await store.jobsAdded.wait(timeout: .seconds(30))
                #expect(ContinuousClock.now - started < .seconds(15), "\(what) did not ring the doorbell")
            }
            try await rung("enqueue") { _ = try await store.enqueue([job("a", serial: "k"), job("b", serial: "k")]) }
            let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
            try await rung("finish") { try await store.finish(claimed, outcome: .permanent(reason: "x")) }
            try await rung("replay") { _ = try await store.replay(ids: [claimed.job.id], actor: "t") }
            try await rung("cancel") { _ = try await store.cancel(ids: [claimed.job.id], actor: "t") }
        }
    }
}
