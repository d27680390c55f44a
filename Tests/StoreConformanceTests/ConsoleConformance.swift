import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// What the console asks of a store: sessions (hashed, idle expiry, revocation, sign-out), job search by the
/// business ids with keyset paging, the audit trail, and the last day's finished counts.
@Suite struct ConsoleConformance {
    @Test(arguments: Backends.all)
    func sessionsLiveWhileUsedAndEndAtSignOutOrRevocation(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let bearer = try await store.createToken(name: "alice", role: .ops)
            #expect(try await store.startSession(bearer: "rgt_not-a-token") == nil)
            let started = try #require(try await store.startSession(bearer: bearer))
            #expect(started.id != bearer && started.session.csrf != started.id && started.session.token.name == "alice")
            #expect(try await store.session(id: started.id, idle: 600)?.token.role == .ops)
            #expect(try await store.session(id: "rgt_guess", idle: 600) == nil)
            // Used every nine minutes it lives on; left for longer than its idle time, it is over.
            for _ in 0..<3 {
                clock.advance(540)
                #expect(try await store.session(id: started.id, idle: 600) != nil)
            }
            clock.advance(601)
            #expect(try await store.session(id: started.id, idle: 600) == nil)

            let second = try #require(try await store.startSession(bearer: bearer))
            try await store.endSession(id: second.id)
            #expect(try await store.session(id: second.id, idle: 600) == nil, "signed out")
            let third = try #require(try await store.startSession(bearer: bearer))
            try await store.revokeToken(name: "alice")
            #expect(try await store.session(id: third.id, idle: 600) == nil, "its token revoked")
            let again = try await store.createToken(name: "alice", role: .ops)
            #expect(try await store.session(id: third.id, idle: 600) == nil, "a new token of the same name is another token")
            #expect(try await store.session(id: try #require(try await store.startSession(bearer: again)).id, idle: 600) != nil)
            let shop = try await store.createToken(name: "shop", role: .storefront)
            #expect(try await store.startSession(bearer: shop) == nil, "storefronts never sign in")
        }
    }

    @Test(arguments: Backends.all)
    func jobsAreFoundByLearnerCourseOrderStoreAndDeliveryAPageAtATime(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let course = "course-v1:edX+DemoX+2026"
            var jobs: [NewJob] = []
            for index in 0..<7 {
                jobs.append(try NewJob(kind: .enroll, dedupeKey: WooKeys.enroll(store: "main", order: 700 + index, line: 1),
                                       serialKey: SerialKey.enrollment(email: "ann@example.com", courseID: index < 5 ? course : "course-v1:X+Y+1"),
                                       payload: EnrollPayload(email: "ann@example.com", courseID: course, mode: nil, orderReference: nil), source: "woocommerce"))
            }
            jobs.append(try NewJob(kind: .enroll, dedupeKey: OrderFulfilment.keyPrefix(reference: "R-1") + "0:enroll",
                                   serialKey: SerialKey.enrollment(email: "annie@example.com", courseID: course),
                                   payload: EnrollPayload(email: "annie@example.com", courseID: course, mode: nil, orderReference: "R-1"), source: "cybersource"))
            jobs.append(try NewJob(kind: .enroll, dedupeKey: OrderFulfilment.keyPrefix(reference: "R-10") + "0:enroll",
                                   serialKey: SerialKey.enrollment(email: "bo@example.com", courseID: course),
                                   payload: EnrollPayload(email: "bo@example.com", courseID: course, mode: nil, orderReference: "R-10"), source: "cybersource"))
            let delivery = try #require(try await store.enqueue(Array(jobs[0..<3]), delivery: NewDelivery(
                source: "woocommerce", body: [], verdict: "accepted", httpStatus: 200)).deliveryID)
            _ = try await store.enqueue(Array(jobs[3...]))
            func ids(_ filter: JobFilter) async throws -> [Int64] { try await store.jobs(filter).map(\.id) }
            var filter = JobFilter(email: "Ann@Example.com ")
            #expect(try await ids(filter) == [7, 6, 5, 4, 3, 2, 1], "annie@ is another learner")
            filter.course = course
            #expect(try await ids(filter) == [5, 4, 3, 2, 1])
            #expect(try await ids(JobFilter(course: course)) == [9, 8, 5, 4, 3, 2, 1])
            #expect(try await ids(JobFilter(order: "R-1")) == [8], "R-10 is another order")
            #expect(try await ids(JobFilter(order: "main:703")) == [4])
            #expect(try await ids(JobFilter(store: "main")) == [7, 6, 5, 4, 3, 2, 1])
            #expect(try await ids(JobFilter(deliveryID: delivery)) == [3, 2, 1])
            // A page at a time, newest first, each after the last id of the one before.
            #expect(try await ids(JobFilter(limit: 4)) == [9, 8, 7, 6])
            #expect(try await ids(JobFilter(beforeID: 6, limit: 4)) == [5, 4, 3, 2])
            #expect(try await ids(JobFilter(state: .queued, beforeID: 2, limit: 4)) == [1])
            #expect(try await ids(JobFilter(state: .failed)).isEmpty)
            #expect(try await ids(JobFilter(kind: .enroll, beforeID: 9, limit: 3)) == [8, 7, 6])

            let claimed = try await store.claim(owner: "w", limit: 2)
            try await store.finish(claimed[0], outcome: .permanent(reason: "no such course"))
            try await store.finish(claimed[1], outcome: .success())
            let counts = try await store.stateCounts()
            #expect(counts.total(state: .succeeded) == 1 && counts.total(state: .failed) == 1 && counts.total(state: .queued) == 7)
            #expect(counts.counts.filter { $0.state == .succeeded }.map(\.kind) == [QueueStats.allKinds])
            #expect(counts.counts.first { $0.state == .failed }?.kind == .enroll)
            let failures = try await store.failureSummary(limit: 10)
            #expect(failures.count == 1 && failures[0].count == 1 && failures[0].error == "no such course" && failures[0].id == claimed[0].job.id)
            let day = try await store.finishedCounts(since: Date().addingTimeInterval(-86_400))
            #expect(day.succeeded == 1 && day.failed == 1)
            #expect(try await store.finishedCounts(since: Date().addingTimeInterval(60)) == (0, 0))

            _ = try await store.replay(ids: [claimed[0].job.id], actor: "console:alice")
            _ = try await store.cancel(ids: [9], actor: "cli:bob")
            let trail = try await store.auditTrail(before: nil, limit: 10)
            #expect(trail.map(\.actor) == ["cli:bob", "console:alice"])
            #expect(try await store.auditTrail(before: trail[0].id, limit: 10).map(\.actor) == ["console:alice"])
        }
    }
}
