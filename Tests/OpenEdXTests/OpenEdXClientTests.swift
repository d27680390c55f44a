import CurlHTTP
import Foundation
import OpenEdX
import RegistrarCore
import RegistrarStore
import Sandbox
import Synchronization
import Testing

@Suite struct OpenEdXClientTests {
    @Test func oneTokenServesManyCallsAndIsRefreshedAfterExpiry() async throws {
        // Long enough for 20 calls on a machine busy with the rest of the suite (CI runs have taken more than a 2 s
        // call timeout with 4 s of token, then more than 10 s with 12 s): the token is reused until 90 % of it has
        // passed. The test waits the token out alongside the others.
        let harness = try await Harness(callTimeout: .seconds(25)) { $0.tokenTTL = .seconds(30) }
        let answers = await withTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let answer = await harness.client.username(forEmail: "ann@example.com")
                    if case .ok("ann", _) = answer { return "ok" }
                    return "\(answer)"
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0 == "ok" }, "\(answers.filter { $0 != "ok" })")
        #expect(await harness.sandbox.stats().tokensIssued == 1, "concurrent callers must share one token fetch")
        // The token was issued before this moment, so 30.1 s later it has expired on both sides.
        let issued = ContinuousClock.now
        try await Task.sleep(until: issued + .milliseconds(30_100))
        guard case .ok("ann", _) = await harness.client.username(forEmail: "ann@example.com") else {
            Issue.record("lookup after expiry failed"); return
        }
        #expect(await harness.sandbox.stats().tokensIssued == 2)
        await harness.shutdown()
    }

    @Test func aRevokedTokenIsRefreshedOnceAndTheCallSucceeds() async throws {
        let harness = try await Harness()
        harness.startWorkers()
        _ = try await harness.waitFor(try await harness.enroll("ann@example.com"))
        #expect(await harness.sandbox.revokeTokens() == 1)
        let job = try await harness.waitFor(try await harness.enroll("bob@example.com"))
        #expect(job.state == .succeeded)
        #expect(await harness.sandbox.stats().tokensIssued == 2)
        #expect(await harness.ledger().map(\.user) == ["ann", "bob"])
        #expect(try await harness.store.attempts(ofJob: job.id).count == 1, "the 401 retry happens inside one attempt")
        await harness.shutdown()
    }

    @Test func wrongClientSecretFailsNamingTheConfiguration() async throws {
        let harness = try await Harness(clientSecret: "not-the-secret")
        harness.startWorkers()
        let job = try await harness.waitFor(try await harness.enroll("ann@example.com"))
        #expect(job.state == .failed)
        #expect(job.lastError?.contains("check openedx.client_id and client_secret") == true)
        #expect(await harness.ledger().isEmpty)
        await harness.shutdown()
    }

    @Test func throttledCallIsRescheduledNoSoonerThanRetryAfter() async throws {
        let harness = try await Harness { $0.throttlePerMinute = 2 }
        harness.startWorkers()
        let first = try await harness.waitFor(try await harness.enroll("ann@example.com"))
        #expect(first.state == .succeeded) // lookup + enroll = the 2 allowed calls
        let id = try await harness.enroll("bob@example.com")
        _ = try await harness.waitFor(id, [.queued], timeout: .seconds(5))
        #expect(try await waitUntil { try await harness.store.attempts(ofJob: id).first?.httpStatus == 429 })
        let attempt = try #require(try await harness.store.attempts(ofJob: id).first)
        let job = try #require(try await harness.store.job(id: id))
        #expect(job.state == .queued && job.lastHTTPStatus == 429)
        // The sandbox said to wait most of a minute; the job is due no sooner than that.
        #expect(job.runAt.timeIntervalSince(attempt.startedAt) >= 50)
        let throttled = await harness.sandbox.stats().throttled
        try await Task.sleep(for: .seconds(1))
        #expect(await harness.sandbox.stats().throttled == throttled, "no 429 storm: nothing retried meanwhile")
        await harness.shutdown()
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetriedToSuccess() async throws {
        let harness = try await Harness(maxAttempts: 40) {
            $0.failRate = 0.5
            $0.faultKinds = [.serverError, .reset]
            $0.randomSeed = 7
        }
        harness.startWorkers()
        let emails = ["ann@example.com", "bob@example.com"]
        var ids: [Int64] = []
        for email in emails {
            ids.append(try await harness.enroll(email, demoCourse))
            ids.append(try await harness.enroll(email, "course-v1:edX+DemoX+2026"))
        }
        for id in ids { #expect(try await harness.waitFor(id, timeout: .seconds(60)).state == .succeeded) }
        let ledger = await harness.ledger()
        #expect(ledger.count == 4 && ledger.allSatisfy { $0.action == .enroll })
        #expect(Set(ledger.map { "\($0.user!)|\($0.courseID)" }).count == 4, "one enrollment per job, none twice")
        var retried = 0
        for id in ids { retried += try await harness.store.attempts(ofJob: id).count - 1 }
        #expect(retried > 0, "the faults were not exercised")
        await harness.shutdown()
    }

    @Test func aTimedOutCallIsRetriedNoSoonerThanTheTimeItWasGiven() async throws {
        // The sandbox answers after 2.5 s (and applies the call); the client gives up after 2 s.
        let harness = try await Harness(callTimeout: .seconds(2)) { $0.latency = .milliseconds(2500) }
        harness.startWorkers()
        let id = try await harness.enroll("ann@example.com")
        #expect(try await waitUntil { try await harness.store.attempts(ofJob: id).first?.outcome == "transient" })
        let attempt = try #require(try await harness.store.attempts(ofJob: id).first)
        let job = try #require(try await harness.store.job(id: id))
        #expect(job.runAt.timeIntervalSince(attempt.startedAt) >= 2 + 2, "retried before a late answer could land")
        await harness.sandbox.setFaults(latency: .zero)
        #expect(try await harness.waitFor(id).state == .succeeded)
        #expect(await harness.ledger().map(\.action) == [.enroll], "the late call and its retry are one enrollment")
        await harness.shutdown()
    }

    @Test func unknownCourseFailsWithTheServersMessage() async throws {
        let harness = try await Harness()
        harness.startWorkers()
        let job = try await harness.waitFor(try await harness.enroll("ann@example.com", "course-v1:edX+Nope+1"))
        #expect(job.state == .failed && job.lastHTTPStatus == 400 && job.attempts == 1)
        #expect(job.lastError == "HTTP 400: No course 'course-v1:edX+Nope+1' found for enrollment")
        #expect(await harness.ledger().isEmpty)
        await harness.shutdown()
    }

    @Test func enrollSendsTheModeAndTheOrderAndUnenrollSendsNoMode() async throws {
        let harness = try await Harness()
        harness.startWorkers()
        _ = try await harness.waitFor(try await harness.enroll("ann@example.com", mode: "verified"))
        // The sandbox refuses a deactivation whose mode differs from the active one: sending any mode but
        // "verified" would fail here, and sending none is what the reference asks for.
        let unenroll = try await harness.waitFor(try await harness.unenroll("ann@example.com"))
        #expect(unenroll.state == .succeeded)
        let ledger = await harness.ledger()
        #expect(ledger.map(\.action) == [.enroll, .unenroll])
        #expect(ledger[0].mode == "verified" && ledger[0].order == "727")
        #expect(await harness.sandbox.enrollment(username: "ann", courseID: demoCourse)?.isActive == false)
        await harness.shutdown()
    }

    @Test func theSameEnrollTwiceIsOneEnrollment() async throws {
        let harness = try await Harness()
        harness.startWorkers()
        _ = try await harness.waitFor(try await harness.enroll("ann@example.com"))
        _ = try await harness.waitFor(try await harness.enroll("ann@example.com"))
        #expect(await harness.ledger().count == 1)
        await harness.shutdown()
    }

    @Test func unknownLearnerUnderAllowGetsEnrollmentAllowedThenIsEnrolledOnRegistration() async throws {
        let harness = try await Harness(unknownLearner: .allow)
        harness.startWorkers()
        let job = try await harness.waitFor(try await harness.enroll("new@example.com"))
        #expect(job.state == .succeeded && job.result?.contains("enrollment_allowed created") == true)
        #expect(await harness.ledger().map(\.action) == [.allowedCreate])
        _ = try await harness.sandbox.addUser(username: "newbie", email: "new@example.com")
        let ledger = await harness.ledger()
        #expect(ledger.map(\.action) == [.allowedCreate, .autoEnroll])
        #expect(ledger.last?.user == "newbie")
        await harness.shutdown()
    }

    @Test func unknownLearnerUnenrollRemovesThePendingAllowance() async throws {
        let harness = try await Harness(unknownLearner: .allow)
        harness.startWorkers()
        _ = try await harness.waitFor(try await harness.enroll("new@example.com"))
        let job = try await harness.waitFor(try await harness.unenroll("new@example.com"))
        #expect(job.state == .succeeded)
        #expect(await harness.ledger().map(\.action) == [.allowedCreate, .allowedDelete])
        _ = try await harness.sandbox.addUser(username: "newbie", email: "new@example.com")
        #expect(await harness.ledger().count == 2, "a refunded learner must not be auto-enrolled on registration")
        await harness.shutdown()
    }

    @Test func unknownLearnerUnderWaitRetriesUntilTheAccountExists() async throws {
        let harness = try await Harness(unknownLearner: .wait, maxAttempts: 200)
        harness.startWorkers()
        let id = try await harness.enroll("late@example.com")
        #expect(try await waitUntil { try await harness.store.attempts(ofJob: id).count >= 2 })
        #expect(try await harness.store.job(id: id)?.state != .failed)
        #expect(await harness.ledger().isEmpty)
        _ = try await harness.sandbox.addUser(username: "late", email: "late@example.com")
        let job = try await harness.waitFor(id)
        #expect(job.state == .succeeded)
        let ledger = await harness.ledger()
        #expect(ledger.map(\.action) == [.enroll] && ledger.first?.user == "late")
        await harness.shutdown()
    }

    @Test func unknownLearnerUnderFailFailsNamingTheEmail() async throws {
        let harness = try await Harness(unknownLearner: .fail)
        harness.startWorkers()
        let job = try await harness.waitFor(try await harness.enroll("ghost@example.com"))
        #expect(job.state == .failed && job.attempts == 1)
        #expect(job.lastError?.contains("ghost@example.com") == true)
        #expect(await harness.ledger().isEmpty)
        await harness.shutdown()
    }

    @Test func rerunIsCreatedAndCreatingItAgainCountsAsSuccess() async throws {
        let harness = try await Harness()
        harness.startWorkers()
        let payload = RerunPayload(sourceCourseID: demoCourse, run: "2027T1", pacing: "self_paced",
                                   start: "2027-01-01T00:00:00Z", end: "2027-06-30T00:00:00Z")
        var ids: [Int64] = []
        for attempt in 0..<2 {
            let job = try NewJob(kind: .rerun, dedupeKey: "rerun-\(attempt)", payload: payload, source: "test")
            ids.append(try await harness.store.enqueue([job]).jobs[0].id)
            let done = try await harness.waitFor(ids.last!)
            #expect(done.state == .succeeded && done.result == "course-v1:edX+DemoX+2027T1")
        }
        let reruns = await harness.ledger().filter { $0.action == .rerun }
        #expect(reruns.count == 1 && reruns[0].courseID == "course-v1:edX+DemoX+2027T1" && reruns[0].sourceCourseID == demoCourse)
        let unknown = try NewJob(kind: .rerun, dedupeKey: "rerun-x", payload: RerunPayload(sourceCourseID: "course-v1:No+Such+Run", run: "R"),
                                 source: "test")
        let failed = try await harness.waitFor(try await harness.store.enqueue([unknown]).jobs[0].id)
        #expect(failed.state == .failed && failed.lastHTTPStatus == 404)
        await harness.shutdown()
    }

    @Test func enrollmentsAreListedFollowingNextToTheEnd() async throws {
        let harness = try await Harness { configuration in
            configuration.enrollmentsPageSize = 2
            configuration.seed.users += (1...5).map { .init(username: "u\($0)", email: "u\($0)@example.com") }
            configuration.seed.enrollments = (1...5).map { .init(user: "u\($0)", courseID: demoCourse) }
        }
        guard case .ok(let all, _) = await harness.client.enrollments(courseID: demoCourse) else {
            Issue.record("listing failed"); return
        }
        #expect(all.map(\.user).sorted() == ["u1", "u2", "u3", "u4", "u5"])
        guard case .ok(let one, _) = await harness.client.enrollment(username: "u3", courseID: demoCourse) else {
            Issue.record("reading failed"); return
        }
        #expect(one?.isActive == true)
        guard case .ok(nil, _) = await harness.client.enrollment(username: "ann", courseID: demoCourse) else {
            Issue.record("a missing enrollment should read as nil"); return
        }
        await harness.shutdown()
    }

    @Test func pacingSpreadsABurstAtTheConfiguredRate() async throws {
        let harness = try await Harness(requestsPerMinute: 600) // one call every 100 ms
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<21 {
                group.addTask { _ = await harness.client.username(forEmail: "ann@example.com") }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        // 21 calls at 10/s need at least 2 s between the first and the last.
        #expect(elapsed >= .milliseconds(1990), "21 paced calls took only \(elapsed)")
        // Only catches a pacer far slower than asked (20 calls at one every 5 s would take 100 s); a loaded machine
        // running the whole suite adds seconds of its own (28 s once for these 21).
        #expect(elapsed < .seconds(60))
        await harness.shutdown()
    }
}

/// With the LMS down, every attempt fails at its token request, at once. Those requests must be paced like the
/// API calls, or a worker with a backlog retries as fast as the connection is refused.
@Test func tokenRequestsToADownLMSArePaced() async throws {
    let closed = try closedLoopbackPort()
    let http = CurlHTTPClient(configuration: HTTPClientConfiguration())
    let requests = Mutex(0)
    let client = OpenEdXClient(settings: OpenEdXSettings(lmsURL: "http://127.0.0.1:\(closed)", studioURL: "http://127.0.0.1:\(closed)",
                                                         clientID: "registrar", clientSecret: Secret("s"), requestsPerMinute: 1200),
                               http: http) { endpoint, _ in if endpoint == "oauth2.access_token" { requests.withLock { $0 += 1 } } }
    let start = ContinuousClock.now
    for _ in 0..<11 {
        guard case .failed(let outcome, _) = await client.username(forEmail: "ann@example.com") else {
            Issue.record("a call to a closed port succeeded"); break
        }
        guard case .transient = outcome else { Issue.record("a refused connection should be retried: \(outcome)"); break }
    }
    let elapsed = ContinuousClock.now - start
    // 11 token requests at 20/s need at least 500 ms between the first and the last; refused connections alone
    // take a few milliseconds in all.
    #expect(requests.withLock { $0 } == 11)
    #expect(elapsed >= .milliseconds(495), "11 failing token requests took only \(elapsed)")
    http.shutdown()
}

/// A loopback port nothing listens on: bound, then closed again.
func closedLoopbackPort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw CocoaError(.fileReadUnknown) }
    return Int(UInt16(bigEndian: address.sin_port))
}

func waitUntil(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(25))
    }
    return try await condition()
}

/// Course run titles from Studio, for the learner's pages.
@Suite struct CourseTitleTests {
    @Test func aRunsTitleIsReadAndAnAbsentRunIsNil() async throws {
        let harness = try await Harness { configuration in
            configuration.seed.courses = [.init(id: demoCourse, title: "Demonstration Course", modes: ["audit"])]
        }
        let found = await harness.client.courseTitle(demoCourse)
        guard case .ok(let title, 200) = found else {
            Issue.record("no title: \(found)")
            return
        }
        #expect(title == "Demonstration Course")
        guard case .ok(let none, 404) = await harness.client.courseTitle("course-v1:edX+Nope+1") else {
            Issue.record("an absent run is not nil")
            return
        }
        #expect(none == nil)
        await harness.shutdown()
    }
}
