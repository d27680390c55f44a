import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// Two `registrar serve` instances on one PostgreSQL database behind one address list, one of them SIGKILLed at
/// random moments and started again while WooCommerce keeps delivering orders and refunds to either. Every 200
/// must have taken effect once, every paid line enrolled once and every refund applied after its enrollment, and
/// the two together must stay under the LMS's throttle: a budget per instance would have been twice the rate.
/// One of `ProcessStressTests`, which run one at a time.
extension ProcessStressTests {
    @Suite(.serialized) struct TwoInstanceCrashTests {
        @Test(.timeLimit(.minutes(6)))
        func twoInstancesOneKilledAtRandomLoseNothingAndShareTheThrottle() async throws {
            let seed = SeededRandom.seed(from: "REGISTRAR_CRASH_SEED", default: 0x5EED_C4A6)
            let replay = "seed \(seed) (replay with REGISTRAR_CRASH_SEED=\(seed))"
            let stream = OrderStream(seed: seed, orders: 40)
            var random = SeededRandom(seed: seed ^ 0xC4A5_C4A6)
            // 120 calls a minute for the pair, and the sandbox throttles at the same: the stream needs well over 120
            // calls, so two instances pacing themselves apart would meet 429s in the first minute.
            let perMinute = 120
            let sandbox = try await startStreamSandbox(stream) {
                $0.latency = .milliseconds(80)
                $0.throttlePerMinute = perMinute
            }
            let url = try await Self.freshDatabase()
            _ = try await PostgresStore.migrate(url)
            let dir = try TemporaryDirectory()
            let configPath = dir.path + "/registrar.yaml"
            try streamConfig(databasePath: "\"\(url)\"", sandbox: sandbox, openedx: ["requests_per_minute: \(perMinute)"],
                             jobs: "backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1, lease_seconds: 2")
                .write(toFile: configPath, atomically: true, encoding: .utf8)

            let schedule = stream.orders.map { order in
                (order: order, start: Duration.milliseconds(Int.random(in: 0...8000, using: &random)),
                 gaps: order.steps.map { _ in Duration.milliseconds(Int.random(in: 50...400, using: &random)) })
            }
            // Which instance dies, after how long, and for how long.
            let lives = (0..<12).map { _ in
                (victim: Int.random(in: 0...1, using: &random), up: Duration.milliseconds(Int.random(in: 200...900, using: &random)),
                 down: Duration.milliseconds(Int.random(in: 0...300, using: &random)))
            }

            let sender = WebhookSender()
            let endpoint = LiveEndpoint()
            let journal = DeliveryJournal()
            let began = ContinuousClock.now
            let deadline = began + .seconds(150)
            var serves = [try await launchServe(configPath: configPath, workingDirectory: dir.path),
                          try await launchServe(configPath: configPath, workingDirectory: dir.path)]
            for (index, serve) in serves.enumerated() { endpoint.set(serve.baseURL, instance: index) }
            var kills = 0
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (order, start, gaps) in schedule {
                        group.addTask {
                            try await Task.sleep(for: start)
                            for (index, step) in order.steps.enumerated() {
                                if index > 0 { try await Task.sleep(for: gaps[index]) }
                                let accepted = await sender.deliverUntilAccepted(step, sandbox: sandbox, endpoint: endpoint,
                                                                                 journal: journal, deadline: deadline)
                                if !accepted { return }
                            }
                        }
                    }
                    for life in lives {
                        try await Task.sleep(for: life.up)
                        // The balancer notices at once: deliveries go to the other instance while this one is down.
                        endpoint.set(nil, instance: life.victim)
                        await killHard(serves[life.victim])
                        kills += 1
                        try await Task.sleep(for: life.down)
                        serves[life.victim] = try await launchServe(configPath: configPath, workingDirectory: dir.path)
                        endpoint.set(serves[life.victim].baseURL, instance: life.victim)
                    }
                    try await group.waitForAll()
                }
            } catch {
                for serve in serves { await killHard(serve) }
                sender.shutdown()
                await sandbox.stop()
                throw error
            }
            let sent = ContinuousClock.now - began

            let store = try await PostgresStore.open(url, options: StoreOptions(jobs: JobsConfig()))
            defer { store.close() }
            // At 120 calls a minute the stream's calls take a minute or two to drain.
            let settled = try await waitUntilSettled(store, timeout: .seconds(200))
            let ledger = await sandbox.ledger()
            let stats = await sandbox.stats()
            let jobs = try await allJobs(store)
            let journalState = journal.snapshot
            var problems: [String] = []
            if !settled { problems.append("jobs still queued or running 200 s after the last delivery") }
            problems += journalState.abandoned
            problems += ledgerProblems(ledger, expected: stream.expected)
            problems += jobTableProblems(jobs)
            problems += try await acceptedDeliveryProblems(journalState.accepted, store: store, jobs: jobs)
            if stats.throttled > 0 { problems.append("the LMS throttled \(stats.throttled) calls: the pair went over \(perMinute) a minute") }
            let calls = stats.requests.values.reduce(0, +)
            let report = """
                two-instance crash test, \(replay): \(kills) SIGKILLs; \(stream.orders.count) orders, \(stream.stepCount) deliveries \
                answered 200 (\(journalState.accepted.count) times, re-sends included) and \(journalState.notAccepted.count) attempts \
                without a 200; \(jobs.count) jobs; \(ledger.count) ledger entries; \(calls) LMS calls, \(stats.throttled) throttled; \
                sending took \(sent), all done after \(ContinuousClock.now - began)
                """
            print(report)
            #expect(kills >= 10, "\(replay)")
            #expect(calls > perMinute, "the stream made only \(calls) LMS calls: too few to tell a shared budget from two")
            #expect(problems.isEmpty, """
                \(report)
                \(bulleted(problems))
                last serve logs:
                \(serves[0].log.suffix(1500))
                \(serves[1].log.suffix(1500))
                """)
            for serve in serves { #expect(await stopGracefully(serve) == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))") }
            sender.shutdown()
            await sandbox.stop()
        }

        static func freshDatabase() async throws -> PostgresURL {
            guard let text = ProcessInfo.processInfo.environment["REGISTRAR_TEST_POSTGRES"] else {
                throw PostgresURL.Invalid("REGISTRAR_TEST_POSTGRES is not set: run the tests as `scripts/with-postgres swift test`")
            }
            let name = "crash_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            return try await PostgresAdmin.createDatabase(name, on: try PostgresURL.parse(text))
        }
    }
}
