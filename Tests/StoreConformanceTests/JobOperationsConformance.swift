import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `JobOperations`: what an operator sees and does, and the audit trail of it.
@Suite struct JobOperationsConformance {
    @Test(arguments: Backends.all)
    func replayResetsAttemptsAndMakesTheJobDueNow(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let id = try #require(try await store.enqueue([job("a")]).jobs.first?.id)
            try await runAll(store) { _ in .permanent(reason: "no such course") }
            #expect(try await store.job(id: id)?.state == .failed)
            clock.advance(10)
            let report = try await store.replay(ids: [id], actor: "cli:alice")
            #expect(report.applied == [id] && report.refused.isEmpty && !report.dryRun)
            let replayed = try #require(try await store.job(id: id))
            #expect(replayed.state == .queued && replayed.attempts == 0 && replayed.runAt == clock.now())
            let detail = try #require(try await store.jobDetail(id: id))
            #expect(detail.actions.map(\.actor) == ["cli:alice"] && detail.actions.map(\.action) == ["replay"])
            #expect(detail.actions.first?.detail == "was failed" && detail.actions.first?.at == clock.now())
            #expect(try await store.claim(owner: "w", limit: 1).first?.job.attempts == 1)
        }
    }

    @Test(arguments: Backends.all)
    func replayRefusesRunningSucceededAndUnknownJobs(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let ids = try await store.enqueue([job("ok"), job("busy")]).jobs.map(\.id)
            let claimed = try await store.claim(owner: "w", limit: 2)
            try await store.finish(claimed[0], outcome: .success())
            let unknown = ids.max()! + 1000
            let report = try await store.replay(ids: ids + [unknown], actor: "t")
            #expect(report.applied.isEmpty)
            #expect(report.refused.map(\.jobID) == ids + [unknown])
            #expect(report.refused[0].reason.contains("already succeeded"))
            #expect(report.refused[1].reason.contains("running"))
            #expect(report.refused[2].reason == "no job \(unknown)")
            #expect(try await store.job(id: ids[0])?.state == .succeeded)
            #expect(try await store.jobDetail(id: ids[0])?.actions.isEmpty == true, "a refusal was audited as an action")
        }
    }

    @Test(arguments: Backends.all)
    func enrollOvertakenByALaterSucceededUnenrollBecomesSuperseded(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let key = "ann@example.com|course-v1:X+Y+Z"
            let ids = try await store.enqueue([job("enroll-1", serial: key), job("unenroll-1", kind: .unenroll, serial: key),
                                               job("enroll-other", serial: "bob@example.com|course-v1:X+Y+Z")]).jobs.map(\.id)
            try await runAll(store) { $0.job.kind == .enroll ? .permanent(reason: "closed") : .success() }
            #expect(try await store.job(id: ids[0])?.state == .failed)
            #expect(try await store.job(id: ids[1])?.state == .succeeded)

            let dry = try await store.replayFailed(kind: nil, since: nil, actor: "t", dryRun: true)
            #expect(dry.dryRun && dry.applied == [ids[2]] && dry.superseded.map(\.jobID) == [ids[0]])
            #expect(dry.superseded.first?.byJobID == ids[1])
            #expect(try await store.job(id: ids[0])?.state == .failed, "dry run changed something")
            #expect(try await store.job(id: ids[2])?.state == .failed, "dry run changed something")

            let report = try await store.replayFailed(kind: .enroll, since: nil, actor: "t")
            #expect(report.applied == [ids[2]] && report.superseded.map(\.jobID) == [ids[0]])
            let superseded = try #require(try await store.job(id: ids[0]))
            #expect(superseded.state == .superseded && superseded.lastError?.contains("job \(ids[1])") == true)
            #expect(try await store.job(id: ids[2])?.state == .queued)
            // And a superseded job is not replayable by id either.
            #expect(try await store.replay(ids: [ids[0]], actor: "t").refused.count == 1)
        }
    }

    /// Replaying a failed enroll while a later unenroll of the same learner and course waits or runs would
    /// enroll after it (per-key order) and undo the unenroll; a failed unenroll never took effect, so it does not count.
    @Test(arguments: Backends.all)
    func enrollIsSupersededByALaterUnenrollThatIsQueuedOrRunningButNotByAFailedOne(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let key = "ann@example.com|course-v1:X+Y+Z"
            let ids = try await store.enqueue([job("enroll-1", serial: key),
                                               job("unenroll-1", kind: .unenroll, serial: key)]).jobs.map(\.id)
            let enroll = try #require(try await store.claim(owner: "w", limit: 5).first)
            #expect(enroll.job.id == ids[0])
            try await store.finish(enroll, outcome: .permanent(reason: "closed"))

            // The unenroll is queued (due, not yet claimed): the enroll may not jump back in front of it.
            let whileQueued = try await store.replay(ids: [ids[0]], actor: "t", dryRun: true)
            #expect(whileQueued.applied.isEmpty && whileQueued.superseded.map(\.byJobID) == [ids[1]])

            // The unenroll is running.
            let unenroll = try #require(try await store.claim(owner: "w", limit: 5).first)
            #expect(unenroll.job.id == ids[1])
            let whileRunning = try await store.replay(ids: [ids[0]], actor: "t", dryRun: true)
            #expect(whileRunning.applied.isEmpty && whileRunning.superseded.map(\.byJobID) == [ids[1]])

            // The unenroll failed: it never happened, so the enroll is replayable again.
            try await store.finish(unenroll, outcome: .permanent(reason: "no such enrollment"))
            let afterFailure = try await store.replay(ids: [ids[0]], actor: "t")
            #expect(afterFailure.applied == [ids[0]] && afterFailure.superseded.isEmpty)
            #expect(try await store.job(id: ids[0])?.state == .queued)
        }
    }

    @Test(arguments: Backends.all)
    func replayFailedFiltersByKindAndSince(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let first = try await store.enqueue([job("old"), job("rerun", kind: .rerun)]).jobs.map(\.id)
            try await runAll(store) { _ in .permanent(reason: "x") }
            clock.advance(3600)
            let new = try #require(try await store.enqueue([job("new")]).jobs.first?.id)
            try await runAll(store) { _ in .permanent(reason: "x") }
            let since = clock.now().addingTimeInterval(-60)
            #expect(try await store.replayFailed(kind: .enroll, since: since, actor: "t", dryRun: true).applied == [new])
            #expect(try await store.replayFailed(kind: .rerun, since: nil, actor: "t", dryRun: true).applied == [first[1]])
            #expect(try await store.replayFailed(kind: nil, since: nil, actor: "t", dryRun: true).applied == first + [new])
        }
    }

    @Test(arguments: Backends.all)
    func cancelTakesQueuedAndFailedJobsAndRefusesTheRest(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let ids = try await store.enqueue([job("failed"), job("running"), job("queued", serial: "k"),
                                               job("behind", serial: "k")]).jobs.map(\.id)
            let first = try await store.claim(owner: "w", limit: 2)
            #expect(first.map(\.job.id) == [ids[0], ids[1]])
            try await store.finish(first[0], outcome: .permanent(reason: "x"))
            let report = try await store.cancel(ids: [ids[0], ids[1], ids[3]], actor: "cli:bob")
            #expect(report.applied == [ids[0], ids[3]])
            #expect(report.refused.map(\.jobID) == [ids[1]])
            #expect(try await store.job(id: ids[0])?.state == .cancelled)
            #expect(try await store.jobDetail(id: ids[0])?.actions.map(\.actor) == ["cli:bob"])
            #expect(try await store.cancel(ids: [ids[0]], actor: "t").refused[0].reason.contains("already cancelled"))
            // A cancelled job can be replayed (the operator changed their mind).
            #expect(try await store.replay(ids: [ids[3]], actor: "t").applied == [ids[3]])
        }
    }

    /// A cancelled job no longer holds back the later jobs of its serial key.
    @Test(arguments: Backends.all)
    func cancellingTheHeadOfAKeyLetsTheNextRun(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let ids = try await store.enqueue([job("e1", serial: "k"), job("e2", serial: "k")]).jobs.map(\.id)
            let claimed = try #require(try await store.claim(owner: "w", limit: 5).first)
            try await store.finish(claimed, outcome: .transient(reason: "503"))
            #expect(try await store.claim(owner: "w", limit: 5).isEmpty, "e2 ran while e1 waited in backoff")
            _ = try await store.cancel(ids: [ids[0]], actor: "t")
            #expect(try await store.claim(owner: "w", limit: 5).map(\.job.id) == [ids[1]])
        }
    }

    @Test(arguments: Backends.all)
    func listingFiltersByStateKindTextAndSinceNewestFirst(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let ids = try await store.enqueue([
                NewJob(kind: .enroll, dedupeKey: "woo:main:7:1:enroll", serialKey: "ann@example.com|C1", payload: "{}",
                       source: "woocommerce:main"),
                NewJob(kind: .unenroll, dedupeKey: "woo:main:7:1:unenroll", serialKey: "ann@example.com|C1", payload: "{}",
                       source: "woocommerce:main"),
            ]).jobs.map(\.id)
            clock.advance(60)
            let later = try #require(try await store.enqueue([
                NewJob(kind: .rerun, dedupeKey: "rerun:X", payload: "{}", source: "cli:carol"),
            ]).jobs.first?.id)
            #expect(try await store.jobs(JobFilter()).map(\.id) == [later, ids[1], ids[0]])
            #expect(try await store.jobs(JobFilter(limit: 2)).map(\.id) == [later, ids[1]])
            #expect(try await store.jobs(JobFilter(kind: .unenroll)).map(\.id) == [ids[1]])
            #expect(try await store.jobs(JobFilter(text: "ann@")).map(\.id) == [ids[1], ids[0]])
            #expect(try await store.jobs(JobFilter(text: "carol")).map(\.id) == [later])
            #expect(try await store.jobs(JobFilter(text: "main:7:1:enroll")).map(\.id) == [ids[0]])
            #expect(try await store.jobs(JobFilter(since: clock.now().addingTimeInterval(-1))).map(\.id) == [later])
            #expect(try await store.jobs(JobFilter(state: .running)).isEmpty)
        }
    }

    @Test(arguments: Backends.all)
    func statsCountByKindAndStateAndAgeTheOldestWaitingJob(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            #expect(try await store.stats() == QueueStats(counts: [], oldestQueuedAge: nil, oldestDueAge: nil))
            _ = try await store.enqueue([job("a"), job("b"), job("r", kind: .rerun)])
            clock.advance(90)
            _ = try await store.enqueue([NewJob(kind: .enroll, dedupeKey: "later", payload: "{}", source: "t",
                                                runAt: clock.now().addingTimeInterval(600))])
            let claimed = try #require(try await store.claim(owner: "w", limit: 1).first)
            try await store.finish(claimed, outcome: .success())
            let stats = try await store.stats()
            #expect(stats.total(state: .queued) == 3 && stats.total(state: .succeeded) == 1 && stats.total == 4)
            #expect(stats.counts.contains(QueueStats.Count(kind: .rerun, state: .queued, count: 1)))
            #expect(stats.oldestQueuedAge == .seconds(90))
            #expect(stats.oldestDueAge == .seconds(90))
        }
    }

    @Test(arguments: Backends.all)
    func prunedJobsKeepTheSupersededRule(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let key = "ann@example.com|C"
            let ids = try await store.enqueue([job("enroll-1", serial: key),
                                               job("unenroll-1", kind: .unenroll, serial: key)]).jobs.map(\.id)
            var first = true
            while let claimed = try await store.claim(owner: "w", limit: 1).first {
                // The enroll fails (course closed), the unenroll succeeds.
                try await store.finish(claimed, outcome: first ? .permanent(reason: "closed") : .success())
                first = false
            }
            clock.advance(86400 * 40)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(86400 * 30)) == 1)
            #expect(try await store.job(id: ids[1]) == nil)
            // The same unenroll delivered again finds its tombstone instead of running again.
            let again = try await store.enqueue([job("unenroll-1", kind: .unenroll, serial: key)])
            #expect(again.jobs.map(\.id) == [ids[1]] && again.jobs.map(\.created) == [false])
            #expect(try await store.jobs(JobFilter()).count == 1)
            // And the old enroll still may not undo the later unenroll.
            #expect(try await store.replay(ids: [ids[0]], actor: "t").superseded.map(\.byJobID) == [ids[1]])
        }
    }
}
