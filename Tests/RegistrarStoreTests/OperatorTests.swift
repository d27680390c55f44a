import Foundation
import RegistrarCore
import RegistrarStore
import Testing

@Suite struct OperatorTests {
    /// Runs each claimed job to the given outcome.
    func runAll(_ store: RegistrarStore, _ outcome: (ClaimedJob) -> HandlerOutcome) async throws {
        while true {
            let claimed = try await store.claim(owner: "w", limit: 10)
            if claimed.isEmpty { return }
            for job in claimed { try await store.finish(job, outcome: outcome(job)) }
        }
    }

    @Test func replayResetsAttemptsAndMakesTheJobDueNow() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        _ = try await store.enqueue([job("a")])
        try await runAll(store) { _ in .permanent(reason: "no such course") }
        #expect(try await store.job(id: 1)?.state == .failed)
        let report = try await store.replay(ids: [1], actor: "cli:alice")
        #expect(report.applied == [1] && report.refused.isEmpty)
        let replayed = try #require(try await store.job(id: 1))
        #expect(replayed.state == .queued && replayed.attempts == 0 && replayed.runAt == clock.now())
        let detail = try #require(try await store.jobDetail(id: 1))
        #expect(detail.actions.map(\.actor) == ["cli:alice"] && detail.actions.map(\.action) == ["replay"])
        #expect(try await store.claim(owner: "w", limit: 1).first?.job.attempts == 1)
    }

    @Test func replayRefusesRunningSucceededAndSupersededJobs() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        _ = try await store.enqueue([job("ok"), job("busy")])
        let claimed = try await store.claim(owner: "w", limit: 2)
        try await store.finish(claimed[0], outcome: .success())
        let report = try await store.replay(ids: [1, 2, 99], actor: "t")
        #expect(report.applied.isEmpty)
        #expect(report.refused.map(\.jobID) == [1, 2, 99])
        #expect(report.refused[0].reason.contains("already succeeded"))
        #expect(report.refused[1].reason.contains("running"))
        #expect(report.refused[2].reason == "no job 99")
        #expect(try await store.job(id: 1)?.state == .succeeded)
    }

    @Test func enrollOvertakenByALaterSucceededUnenrollBecomesSuperseded() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let key = "ann@example.com|course-v1:X+Y+Z"
        _ = try await store.enqueue([job("enroll-1", serial: key), job("unenroll-1", kind: .unenroll, serial: key),
                                     job("enroll-other", serial: "bob@example.com|course-v1:X+Y+Z")])
        try await runAll(store) { $0.job.kind == .enroll ? .permanent(reason: "closed") : .success() }
        #expect(try await store.job(id: 1)?.state == .failed)
        #expect(try await store.job(id: 2)?.state == .succeeded)

        let dry = try await store.replayFailed(kind: nil, since: nil, actor: "t", dryRun: true)
        #expect(dry.dryRun && dry.applied == [3] && dry.superseded.map(\.jobID) == [1] && dry.superseded[0].byJobID == 2)
        #expect(try await store.job(id: 1)?.state == .failed, "dry run changed something")
        #expect(try await store.job(id: 3)?.state == .failed, "dry run changed something")

        let report = try await store.replayFailed(kind: .enroll, since: nil, actor: "t")
        #expect(report.applied == [3] && report.superseded.map(\.jobID) == [1])
        #expect(try await store.job(id: 1)?.state == .superseded)
        #expect(try await store.job(id: 3)?.state == .queued)
        // And a superseded job is not replayable by id either.
        #expect(try await store.replay(ids: [1], actor: "t").refused.count == 1)
    }

    @Test func replayFailedFiltersByKindAndSince() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        _ = try await store.enqueue([job("old"), job("rerun", kind: .rerun)])
        try await runAll(store) { _ in .permanent(reason: "x") }
        clock.advance(3600)
        _ = try await store.enqueue([job("new")])
        try await runAll(store) { _ in .permanent(reason: "x") }
        let since = clock.now().addingTimeInterval(-60)
        #expect(try await store.replayFailed(kind: .enroll, since: since, actor: "t", dryRun: true).applied == [3])
        #expect(try await store.replayFailed(kind: .rerun, since: nil, actor: "t", dryRun: true).applied == [2])
        #expect(try await store.replayFailed(kind: nil, since: nil, actor: "t", dryRun: true).applied == [1, 2, 3])
    }

    @Test func cancelTakesQueuedAndFailedJobsAndRefusesTheRest() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        _ = try await store.enqueue([job("failed"), job("running"), job("queued", serial: "k"), job("behind", serial: "k")])
        let first = try await store.claim(owner: "w", limit: 2)
        try await store.finish(first[0], outcome: .permanent(reason: "x"))
        let report = try await store.cancel(ids: [1, 2, 4], actor: "cli:bob")
        #expect(report.applied == [1, 4])
        #expect(report.refused.map(\.jobID) == [2])
        #expect(try await store.job(id: 1)?.state == .cancelled)
        #expect(try await store.cancel(ids: [1], actor: "t").refused[0].reason.contains("already cancelled"))
        // A cancelled job can be replayed (the operator changed their mind).
        #expect(try await store.replay(ids: [4], actor: "t").applied == [4])
    }
}

@Suite struct RetentionTests {
    @Test func prunedJobsKeepTheirDedupeKeysAndTheSupersededRule() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        let key = "ann@example.com|C"
        _ = try await store.enqueue([job("enroll-1", serial: key), job("unenroll-1", kind: .unenroll, serial: key)])
        var first = true
        while let claimed = try await store.claim(owner: "w", limit: 1).first {
            // The enroll fails (course closed), the unenroll succeeds.
            try await store.finish(claimed, outcome: first ? .permanent(reason: "closed") : .success())
            first = false
        }
        clock.advance(86400 * 40)
        #expect(try await store.pruneSucceeded(finishedBefore: clock.now().addingTimeInterval(-86400 * 30)) == 1)
        #expect(try await store.job(id: 2) == nil)
        // The same unenroll delivered again finds its tombstone instead of running again.
        let again = try await store.enqueue([job("unenroll-1", kind: .unenroll, serial: key)])
        #expect(again.jobs.map(\.id) == [2] && again.jobs.map(\.created) == [false] && again.jobs.map(\.state) == [.succeeded])
        #expect(try await store.jobs(JobFilter()).count == 1)
        // And the old enroll still may not undo the later unenroll.
        let report = try await store.replay(ids: [1], actor: "t")
        #expect(report.superseded.map(\.byJobID) == [2])
    }
}
