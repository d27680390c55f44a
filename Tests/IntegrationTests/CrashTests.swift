import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// The tests that kill real `serve` processes or starve them of a healthy LMS, each with processes and a sandbox of
/// its own, run one at a time: side by side they starved each other of the two cores, and their timeouts fired for
/// that, not for what they test.
@Suite(.serialized) struct ProcessStressTests {}

/// `registrar serve` killed with SIGKILL at random moments while WooCommerce keeps delivering orders and refunds.
/// A 200 is a promise that the delivery and its jobs are on disk; a kill may cost a delivery that was never
/// answered (the store re-sends it here), but never one that was, and never makes a job run twice in effect.
extension ProcessStressTests {
    @Suite(.serialized) struct CrashTests {
        @Test(.timeLimit(.minutes(4)))
        func sigkillAtRandomMomentsLosesNoAcceptedDeliveryAndAppliesEveryLineOnceInOrder() async throws {
            let seed = SeededRandom.seed(from: "REGISTRAR_CRASH_SEED", default: 0x5EED_C4A5)
            let replay = "seed \(seed) (replay with REGISTRAR_CRASH_SEED=\(seed))"
            let stream = OrderStream(seed: seed, orders: 40)
            var random = SeededRandom(seed: seed ^ 0xC4A5_C4A5)
            // Every LMS call takes 80 ms, so a kill usually finds attempts in flight: some applied in the sandbox
            // but not yet recorded as done, whose retry after the lease must then change nothing.
            let sandbox = try await startStreamSandbox(stream) { $0.latency = .milliseconds(80) }
            let dir = try TemporaryDirectory()
            let databasePath = dir.path + "/registrar.sqlite"
            let configPath = dir.path + "/registrar.yaml"
            // A short lease, so jobs a killed process was running are rescued within the test; fast pacing, because
            // the point is crashes, not the LMS throttle.
            try streamConfig(databasePath: databasePath, sandbox: sandbox, openedx: ["requests_per_minute: 6000"],
                             jobs: "backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1, lease_seconds: 2")
                .write(toFile: configPath, atomically: true, encoding: .utf8)

            // The whole schedule is drawn up front from the seed: when each order starts, the pause before each of
            // its later updates, how long each serve process lives, how it is struck, and how long it stays dead.
            let schedule = stream.orders.map { order in
                (order: order, start: Duration.milliseconds(Int.random(in: 0...8000, using: &random)),
                 gaps: order.steps.map { _ in Duration.milliseconds(Int.random(in: 50...400, using: &random)) })
            }
            let lives = (0..<12).map { _ in
                let draw = Int.random(in: 0..<10, using: &random)
                return (up: Duration.milliseconds(Int.random(in: 200...700, using: &random)),
                        strike: draw < 6 ? Strike.onAnswer : draw < 9 ? .duringLMSCall : .anytime,
                        down: Duration.milliseconds(Int.random(in: 0...250, using: &random)))
            }

            let sender = WebhookSender()
            let endpoint = LiveEndpoint()
            let journal = DeliveryJournal()
            let killSwitch = KillSwitch()
            let began = ContinuousClock.now
            let deadline = began + .seconds(150)
            var serve = try await launchServe(configPath: configPath, workingDirectory: dir.path)
            endpoint.set(serve.baseURL)
            var kills = 0
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (order, start, gaps) in schedule {
                        group.addTask {
                            try await Task.sleep(for: start)
                            for (index, step) in order.steps.enumerated() {
                                if index > 0 { try await Task.sleep(for: gaps[index]) }
                                let accepted = await sender.deliverUntilAccepted(step, sandbox: sandbox, endpoint: endpoint,
                                                                                 journal: journal, deadline: deadline,
                                                                                 answered: killSwitch.fire)
                                if !accepted { return }
                            }
                        }
                    }
                    for life in lives {
                        try await Task.sleep(for: life.up)
                        let latest = ContinuousClock.now + .seconds(1)
                        switch life.strike {
                        case .anytime:
                            break
                        case .onAnswer:
                            killSwitch.arm(serve.process.processIdentifier)
                            while serve.process.isRunning, ContinuousClock.now < latest {
                                try await Task.sleep(for: .milliseconds(2))
                            }
                            killSwitch.disarm()
                        case .duringLMSCall:
                            let calls = await Self.enrollmentCalls(sandbox)
                            while await Self.enrollmentCalls(sandbox) == calls, ContinuousClock.now < latest {
                                try await Task.sleep(for: .milliseconds(2))
                            }
                        }
                        // The dead process's address stays current until the new one listens: deliveries meanwhile are
                        // refused, as they would be for the store.
                        await killHard(serve)
                        kills += 1
                        try await Task.sleep(for: life.down)
                        serve = try await launchServe(configPath: configPath, workingDirectory: dir.path)
                        endpoint.set(serve.baseURL)
                    }
                    try await group.waitForAll()
                }
            } catch {
                await killHard(serve)
                sender.shutdown()
                await sandbox.stop()
                throw error
            }
            let sent = ContinuousClock.now - began

            let store = try openStore(databasePath)
            let settled = try await waitUntilSettled(store, timeout: .seconds(60))
            let ledger = await sandbox.ledger()
            let jobs = try await allJobs(store)
            let journalState = journal.snapshot
            var problems: [String] = []
            if !settled { problems.append("jobs still queued or running 60 s after the last delivery") }
            problems += journalState.abandoned
            problems += ledgerProblems(ledger, expected: stream.expected)
            problems += jobTableProblems(jobs)
            problems += try await acceptedDeliveryProblems(journalState.accepted, store: store, jobs: jobs)

            var rescued = 0
            for job in jobs {
                rescued += try await store.attempts(ofJob: job.id).filter { $0.outcome == "lease_expired" }.count
            }
            // Committed, but the process died before the answer left: the re-send found the same jobs.
            let answeredIDs = Set(journalState.accepted.map(\.deliveryID))
            let unanswered = try await store.deliveries(DeliveryFilter(limit: 100_000)).filter { !answeredIDs.contains($0.id) }.count
            let report = """
                crash test, \(replay): \(kills) SIGKILLs; \(stream.orders.count) orders, \(stream.stepCount) deliveries \
                answered 200 (\(journalState.accepted.count) times, re-sends included) and \(journalState.notAccepted.count) \
                attempts without a 200, \(unanswered) deliveries committed but never answered; \(jobs.count) jobs, \
                \(rescued) attempts cut by a kill and rescued; \(ledger.count) ledger entries; sending took \(sent), \
                all done after \(ContinuousClock.now - began)
                """
            print(report)
            #expect(kills >= 5, "\(replay)")
            #expect(problems.isEmpty, """
                \(report)
                \(bulleted(problems))
                last serve log:
                \(serve.log.suffix(3000))
                """)
            // Without these the kills could all have fallen where nothing was in flight, and the test proved nothing.
            #expect(!journalState.notAccepted.isEmpty, "no delivery ever went unanswered: the kills missed the stream; \(replay)")
            #expect(rescued >= 1, "no kill interrupted a running job; \(replay)")

            #expect(await stopGracefully(serve) == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))")
            sender.shutdown()
            await sandbox.stop()
        }

        /// Where a kill lands.
        private enum Strike {
            /// Wherever the schedule says.
            case anytime
            /// The instant the next 200 arrives: an intake that answered before its commit was on disk loses it.
            case onAnswer
            /// Just after an enroll or unenroll call reached the LMS: the sandbox applies it (after its latency) to a
            /// caller that is gone, and the job, still marked running, must be rescued and retried to no effect.
            case duringLMSCall
        }

        private static func enrollmentCalls(_ sandbox: RunningSandbox) async -> Int {
            await sandbox.stats().requests["POST /api/enrollment/v1/enrollment"] ?? 0
        }
    }
}
