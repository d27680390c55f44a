import Foundation
import Sandbox
import Testing

@Suite struct FaultTests {
    @Test func throttleAnswers429WithRetryAfter() async throws {
        try await Harness.run({ $0.throttlePerMinute = 3 }) { h in
            let token = try await h.token()
            for _ in 0..<3 {
                #expect(try await h.api(.get, "/api/user/v1/accounts?email=alice%40example.com", token: token).status == 200)
            }
            let throttled = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(demoCourse)]])
            #expect(throttled.status == 429)
            let retryAfter = try #require(throttled.header("Retry-After").flatMap(Int.init))
            // The wait until the first of the three calls leaves the 60 s window: a little under 60 s, less on a
            // machine slow enough to take seconds over the three calls.
            #expect((1...60).contains(retryAfter))
            #expect(throttled.json == ["detail": .string("Request was throttled. Expected available in \(retryAfter) seconds.")])
            #expect(await h.sandbox.ledger().isEmpty)
            // Tokens and the store are not throttled.
            #expect(try await h.tokenRequest("grant_type=client_credentials&client_id=registrar-worker&client_secret=sandbox-secret").status == 200)
            #expect(await h.sandbox.stats().throttled == 1)

            await h.sandbox.setFaults(throttlePerMinute: .some(nil))
            #expect(try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(demoCourse)]]).status == 200)
        }
    }

    @Test func serverErrorsApplyNothing() async throws {
        try await Harness.run({ $0.failRate = 1; $0.faultKinds = [.badGateway] }) { h in
            let token = try await h.token()
            let result = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(demoCourse)]])
            #expect(result.status == 502)
            #expect(result.text.contains("502 Bad Gateway"))
            #expect(await h.sandbox.ledger().isEmpty)
            let stats = await h.sandbox.stats()
            #expect(stats.faultsInjected == 1)
            #expect(stats.faults["502"] == 1)
            #expect(stats.requests["POST /api/enrollment/v1/enrollment"] == 1)
        }
    }

    @Test func resetDropsTheConnectionAfterApplying() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            await h.sandbox.setFaults(failRate: 1, kinds: [.reset])
            await #expect(throws: (any Error).self) {
                _ = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(demoCourse)]])
            }
            #expect(await h.sandbox.ledger().map(\.action) == [.enroll])
            // The retry a client makes is then a no-op.
            await h.sandbox.setFaults(failRate: 0)
            let retry = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(demoCourse)]])
            #expect(retry.status == 200)
            #expect(await h.sandbox.ledger().count == 1)
        }
    }

    @Test func latencyAndSlowAnswersDelay() async throws {
        try await Harness.run({ $0.latency = .milliseconds(250) }) { h in
            let token = try await h.token()
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await h.api(.get, "/api/user/v1/accounts?email=alice%40example.com", token: token).status == 200)
            #expect(clock.now - start >= .milliseconds(250))

            let faults = SandboxFaults(failRate: 1, kinds: [.slow], slowAnswerDelay: .milliseconds(400))
            await h.sandbox.setFaults(faults)
            let slowStart = clock.now
            #expect(try await h.api(.get, "/api/user/v1/accounts?email=alice%40example.com", token: token).status == 200)
            #expect(clock.now - slowStart >= .milliseconds(400))
        }
    }

    @Test func seededFaultsAreReproducible() async throws {
        func statuses() async throws -> [Int] {
            var seen: [Int] = []
            try await Harness.run({
                $0.failRate = 0.5
                $0.randomSeed = 42
                $0.faultKinds = [.serverError, .unavailable]
            }) { h in
                let token = try await h.token()
                for _ in 0..<12 {
                    seen.append(try await h.api(.get, "/api/user/v1/accounts?email=alice%40example.com", token: token).status)
                }
            }
            return seen
        }
        let first = try await statuses()
        let second = try await statuses()
        #expect(first == second)
        #expect(first.contains(200))
        #expect(first.contains { $0 == 500 || $0 == 503 })
    }

    @Test func faultsEndpointChangesSettings() async throws {
        try await Harness.run { h in
            let result = try await h.send(.post, "/__sandbox/faults", json: ["fail_rate": 0.25, "latency_ms": 10, "throttle_per_minute": 120, "kinds": ["500", "reset"]])
            #expect(result.status == 200)
            let faults = await h.sandbox.faults()
            #expect(faults.failRate == 0.25)
            #expect(faults.latency == .milliseconds(10))
            #expect(faults.throttlePerMinute == 120)
            #expect(faults.kinds == [.serverError, .reset])
            let bad = try await h.send(.post, "/__sandbox/faults", json: ["kinds": ["explode"]])
            #expect(bad.status == 400)
        }
    }
}
