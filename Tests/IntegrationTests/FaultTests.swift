import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// The LMS and the store misbehaving under `registrar serve`: 5xx pages, connections reset after the call was
/// applied, answers slower than the client waits (applied anyway), and the staff throttle's 429s.
extension ProcessStressTests {
    @Suite(.serialized) struct FaultTests {
        /// About a minute: a 429 from a sliding 60 s window asks to wait until the oldest call in it is a minute old,
        /// and Registrar rightly waits that long, so no test with a real 429 in it can be much shorter.
        @Test(.timeLimit(.minutes(4)))
        func faultsAndThrottlingEndWithEveryJobSucceededOnceAndInOrder() async throws {
            let seed = SeededRandom.seed(from: "REGISTRAR_FAULT_SEED", default: 0xFA17_5EED)
            let replay = "seed \(seed) (replay with REGISTRAR_FAULT_SEED=\(seed))"
            let stream = OrderStream(seed: seed, orders: 24, learners: 12, courses: 4, firstOrderID: 4001, completedUpdates: false)
            let sandbox = try await startStreamSandbox(stream) { configuration in
                configuration.failRate = 0.3
                configuration.faultKinds = SandboxFaultKind.allCases
                // Just past the client's 1 s timeout: the client gives up, the sandbox applies the call anyway 40 ms
                // later, and the retry must change nothing. Kept under the first backoff (45–55 ms), so the late call
                // lands before the next job of the same learner and course can run; far past it, it can land after
                // that job, which the test below shows.
                configuration.slowAnswerDelay = .milliseconds(1040)
                // The client paces at 50 calls/s, so the first burst of jobs overruns 40/min and meets 429s.
                configuration.throttlePerMinute = 40
                configuration.randomSeed = seed
            }
            let dir = try TemporaryDirectory()
            let databasePath = dir.path + "/registrar.sqlite"
            let configPath = dir.path + "/registrar.yaml"
            try streamConfig(databasePath: databasePath, sandbox: sandbox,
                             openedx: ["requests_per_minute: 3000", "timeout_seconds: 1"],
                             jobs: "backoff_base_seconds: 0.05, backoff_cap_seconds: 1, poll_interval_seconds: 0.1")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            let serve = try await launchServe(configPath: configPath, workingDirectory: dir.path)
            let sender = WebhookSender()
            let endpoint = LiveEndpoint()
            endpoint.set(serve.baseURL)
            let journal = DeliveryJournal()
            let began = ContinuousClock.now

            // Each order's refund follows its payment at once, so the unenroll is queued behind an enroll that is
            // still failing and retrying: the order per learner and course is what is under test.
            await withTaskGroup(of: Void.self) { group in
                for order in stream.orders {
                    group.addTask {
                        for step in order.steps {
                            let accepted = await sender.deliverUntilAccepted(step, sandbox: sandbox, endpoint: endpoint, journal: journal,
                                                                             deadline: .now + .seconds(30))
                            if !accepted { return }
                        }
                    }
                }
            }
            let store = try openStore(databasePath)
            let settled = try await waitUntilSettled(store, timeout: .seconds(150))
            let ledger = await sandbox.ledger()
            let stats = await sandbox.stats()
            let jobs = try await allJobs(store)
            var problems: [String] = []
            if !settled { problems.append("jobs still queued or running after 150 s") }
            problems += journal.snapshot.abandoned
            problems += ledgerProblems(ledger, expected: stream.expected)
            problems += jobTableProblems(jobs)

            var throttledAttempts = 0
            var timedOutAttempts = 0
            var attemptCount = 0
            for job in jobs {
                let attempts = try await store.attempts(ofJob: job.id)
                attemptCount += attempts.count
                timedOutAttempts += attempts.filter { $0.error?.contains("HTTP timeout") == true }.count
                for (attempt, next) in zip(attempts, attempts.dropFirst()) where attempt.httpStatus == 429 {
                    throttledAttempts += 1
                    guard let wait = retryAfterSeconds(attempt.error) else {
                        problems.append("job \(job.id) attempt \(attempt.attempt): 429 without the wait in its error: \(attempt.error ?? "nil")")
                        continue
                    }
                    // The retry is due `wait` seconds after the attempt ended; stored times are whole milliseconds.
                    let ended = attempt.startedAt.addingTimeInterval(Double(attempt.durationMilliseconds ?? 0) / 1000)
                    let early = ended.addingTimeInterval(Double(wait)).timeIntervalSince(next.startedAt)
                    if early > 0.005 {
                        problems.append("job \(job.id) was retried \(Int(early * 1000)) ms before the \(wait) s its 429 asked for")
                    }
                }
            }
            let report = """
                fault test, \(replay): \(stream.orders.count) orders, \(jobs.count) jobs, \(attemptCount) attempts \
                (\(throttledAttempts) answered 429, \(timedOutAttempts) timed out); sandbox: \(stats.faultsInjected) faults \
                \(stats.faults.sorted { $0.key < $1.key }), \(stats.throttled) throttled, \(ledger.count) ledger entries; \
                done after \(ContinuousClock.now - began)
                """
            print(report)
            #expect(problems.isEmpty, """
                \(report)
                \(bulleted(problems))
                serve log:
                \(serve.log.suffix(3000))
                """)
            // The faults this test is about must actually have happened.
            #expect(stats.throttled >= 1 && throttledAttempts >= 1, "no 429 reached a job; \(replay)")
            #expect((stats.faults["reset"] ?? 0) >= 1 && (stats.faults["slow"] ?? 0) >= 1, "\(stats.faults); \(replay)")
            #expect(timedOutAttempts >= 1, "no attempt timed out on a slow answer; \(replay)")

            #expect(await stopGracefully(serve) == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))")
            sender.shutdown()
            await sandbox.stop()
        }

        /// An enroll call the client stopped waiting for is still applied by the LMS when it gets to it. Neither its
        /// retry nor the refund's unenroll queued behind it may run so soon that this late call lands after the
        /// unenroll: the refunded learner would be enrolled again. (It failed while a timeout was retried after the
        /// ordinary 50 ms backoff: retry and unenroll were both done 0.5 s before the stalled call was applied.)
        @Test(.timeLimit(.minutes(2)))
        func aTimedOutEnrollAppliedLateDoesNotUndoTheRefundThatFollowsIt() async throws {
            let stream = OrderStream(seed: 7, orders: 0, learners: 1, courses: 2)
            let sandbox = try await startStreamSandbox(stream)
            let dir = try TemporaryDirectory()
            let databasePath = dir.path + "/registrar.sqlite"
            let configPath = dir.path + "/registrar.yaml"
            try streamConfig(databasePath: databasePath, sandbox: sandbox, openedx: ["requests_per_minute: 6000", "timeout_seconds: 1"],
                             jobs: "backoff_base_seconds: 0.05, backoff_cap_seconds: 1, poll_interval_seconds: 0.1")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            let serve = try await launchServe(configPath: configPath, workingDirectory: dir.path)
            let sender = WebhookSender()
            let endpoint = LiveEndpoint()
            endpoint.set(serve.baseURL)
            let journal = DeliveryJournal()
            let store = try openStore(databasePath)
            let learner = stream.learners[0]
            let courseID = stream.courses[1].id
            let orderID = 6002

            // A first purchase, without faults, so the learner's username is cached and the next enroll job makes
            // a single call: the POST.
            let warmup = try Self.step("warm-up order 6001", Self.paidOrder(6001, learner, stream.courses[0].id))
            #expect(await sender.deliverUntilAccepted(warmup, sandbox: sandbox, endpoint: endpoint, journal: journal,
                                                      deadline: .now + .seconds(10)))
            #expect(try await waitUntilSettled(store, timeout: .seconds(20)))

            // Every call now stalls 1.6 s: the enroll POST times out after 1 s on the client and is applied at 1.6 s.
            await sandbox.setFaults(SandboxFaults(failRate: 1, kinds: [.slow], slowAnswerDelay: .milliseconds(1600)))
            let posts = "POST /api/enrollment/v1/enrollment"
            let before = await sandbox.stats().requests[posts] ?? 0
            let paid = try Self.step("order \(orderID) paid", Self.paidOrder(orderID, learner, courseID))
            #expect(await sender.deliverUntilAccepted(paid, sandbox: sandbox, endpoint: endpoint, journal: journal,
                                                      deadline: .now + .seconds(10)))
            let stalled = ContinuousClock.now + .seconds(5)
            while (await sandbox.stats().requests[posts] ?? 0) == before, ContinuousClock.now < stalled {
                try await Task.sleep(for: .milliseconds(5))
            }
            // Only that first call stalls; the LMS is quick again for the retry and everything after it.
            await sandbox.setFaults(SandboxFaults())
            let refunded = try Self.step("order \(orderID) refunded", Self.paidOrder(orderID, learner, courseID, status: "refunded"))
            #expect(await sender.deliverUntilAccepted(refunded, sandbox: sandbox, endpoint: endpoint, journal: journal,
                                                      deadline: .now + .seconds(10)))
            #expect(try await waitUntilSettled(store, timeout: .seconds(20)))
            // The stalled call is still in the sandbox; give it time to land.
            try await Task.sleep(for: .seconds(2))

            let actions = await sandbox.ledger().filter { $0.user == learner.username && $0.courseID == courseID }.map(\.action)
            let enrollment = await sandbox.enrollment(username: learner.username, courseID: courseID)
            #expect(actions == [.enroll, .unenroll] && enrollment?.isActive == false, """
                order \(orderID) was refunded, yet the ledger for \(learner.username) in \(courseID) reads \(actions.map(\.rawValue)) \
                and the enrollment is \(enrollment?.isActive == true ? "active" : "inactive"): the enroll call that timed out was \
                applied after the refund's unenroll
                """)
            let jobs = try await allJobs(store)
            #expect(jobs.allSatisfy { $0.state == .succeeded }, "\(jobs.map { "\($0.id) \($0.kind.rawValue) \($0.state)" })")

            #expect(await stopGracefully(serve) == 0)
            sender.shutdown()
            await sandbox.stop()
        }

        private static func step(_ label: String, _ body: [UInt8]) throws -> StreamStep {
            StreamStep(label: label, topic: "order.updated", body: body, storeOrder: try SandboxJSON.decode(Data(body)), refund: nil)
        }

        /// A one-line order for `courseID` in verified mode, as bytes.
        private static func paidOrder(_ id: Int, _ learner: SandboxSeed.User, _ courseID: String, status: String = "processing") -> [UInt8] {
            let line = StreamLine(id: id * 10, productID: 300, name: "Course — Verified", courseID: courseID, mode: "verified",
                                  price: 49, quantity: 1)
            let created = Date(timeIntervalSince1970: 1_795_420_800)
            let json = OrderStream.orderJSON(id, learner: learner, lines: [line], status: status, created: created,
                                             modified: created.addingTimeInterval(status == "refunded" ? 600 : 60), refunds: [])
            return Array((try? json.encoded()) ?? Data())
        }
    }
}

/// The wait a DRF 429 names: "Request was throttled. Expected available in 58 seconds."
func retryAfterSeconds(_ error: String?) -> Int? {
    guard let error, let range = error.range(of: #"available in \d+ second"#, options: .regularExpression) else { return nil }
    return Int(error[range].split(separator: " ")[2])
}
