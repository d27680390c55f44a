import Foundation
import Logging
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import RegistrarWorker
import Synchronization
import TestSupport
import Testing

/// Records what handlers saw, in order.
final class Recorder: Sendable {
    struct Event: Sendable, Equatable { var key: String; var started: Bool }
    let events = Mutex<[Event]>([])
    let calls = Mutex<[String: Int]>([:])
    func start(_ key: String) {
        events.withLock { $0.append(.init(key: key, started: true)) }
        calls.withLock { $0[key, default: 0] += 1 }
    }
    func end(_ key: String) { events.withLock { $0.append(.init(key: key, started: false)) } }
    func count(_ key: String) -> Int { calls.withLock { $0[key] ?? 0 } }
}

func makeStore(_ dir: TemporaryDirectory, base: Duration = .seconds(2), cap: Duration = .seconds(60)) throws -> SQLiteStore {
    let options = StoreOptions(maxAttempts: 5, lease: .seconds(30),
                               retry: RetryRule(backoff: BackoffPolicy(base: base, cap: cap, jitter: 0.1)))
    return try SQLiteStore(path: dir.file("registrar.sqlite"), options: options)
}

func job(_ key: String, kind: JobKind = .enroll, serial: String? = nil) -> NewJob {
    NewJob(kind: kind, dedupeKey: key, serialKey: serial, payload: "{}", source: "test")
}

@Suite struct WorkerPoolTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func serialKeyJobsRunOneAtATimeInCreationOrderUnderConcurrency() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let recorder = Recorder()
        var registry = HandlerRegistry()
        registry.register(.enroll) { job in
            recorder.start(job.job.dedupeKey)
            try? await Task.sleep(for: .milliseconds(Int.random(in: 1...15)))
            recorder.end(job.job.dedupeKey)
            return .success()
        }
        let learners = ["ann", "bob", "cy"]
        var jobs: [NewJob] = []
        for step in 0..<10 {
            for learner in learners { jobs.append(job("\(learner)-\(step)", serial: "\(learner)@x|C")) }
        }
        let pool = WorkerPool(store: store, registry: registry, options: .init(concurrency: 8), logger: logger)
        let running = Task { try await pool.run() }
        // Enqueued in many small concurrent batches while workers are already running.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: jobs.count, by: 3) {
                let slice = Array(jobs[chunk..<min(chunk + 3, jobs.count)])
                group.addTask { _ = try await store.enqueue(slice) }
                try await group.next()
            }
        }
        #expect(try await waitUntil { try await store.stats().total(state: .succeeded) == 30 })
        pool.stop()
        try await running.value
        let events = recorder.events.withLock { $0 }
        for learner in learners {
            let mine = events.filter { $0.key.hasPrefix(learner + "-") }
            // Strictly start, end, start, end… in step order: never two at once, never out of order.
            let expected = (0..<10).flatMap { [Recorder.Event(key: "\(learner)-\($0)", started: true),
                                               Recorder.Event(key: "\(learner)-\($0)", started: false)] }
            #expect(mine == expected)
        }
        // Different learners did overlap: the pool is concurrent, not serial.
        var open = 0, maxOpen = 0
        for event in events { open += event.started ? 1 : -1; maxOpen = max(maxOpen, open) }
        #expect(maxOpen > 1)
    }

    @Test func transientFailuresAreRetriedUntilSuccess() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir, base: .milliseconds(20), cap: .milliseconds(100))
        let recorder = Recorder()
        var registry = HandlerRegistry()
        registry.register(.enroll) { job in
            recorder.start(job.job.dedupeKey)
            return recorder.count(job.job.dedupeKey) < 3 ? .transient(reason: "503", httpStatus: 503) : .success()
        }
        let pool = WorkerPool(store: store, registry: registry, options: .init(concurrency: 2), logger: logger)
        let running = Task { try await pool.run() }
        _ = try await store.enqueue([job("a")])
        #expect(try await waitUntil { try await store.job(id: 1)?.state == .succeeded })
        pool.stop()
        try await running.value
        #expect(recorder.count("a") == 3)
        #expect(try await store.attempts(ofJob: 1).map(\.outcome) == ["transient", "transient", "succeeded"])
    }

    @Test func unknownKindFailsPermanentlyNamingTheKind() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let pool = WorkerPool(store: store, registry: HandlerRegistry(), options: .init(concurrency: 1), logger: logger)
        let running = Task { try await pool.run() }
        _ = try await store.enqueue([job("a", kind: "mystery")])
        #expect(try await waitUntil { try await store.job(id: 1)?.state == .failed })
        pool.stop()
        try await running.value
        #expect(try await store.job(id: 1)?.lastError?.contains("mystery") == true)
    }

    @Test func stopLetsRunningAttemptsFinishWithinTheGracePeriod() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        var registry = HandlerRegistry()
        registry.register(.enroll) { _ in
            try? await Task.sleep(for: .milliseconds(300))
            return .success()
        }
        let pool = WorkerPool(store: store, registry: registry,
                              options: .init(concurrency: 1, gracePeriod: .seconds(5)), logger: logger)
        let running = Task { try await pool.run() }
        _ = try await store.enqueue([job("a"), job("b")])
        #expect(try await waitUntil { try await store.job(id: 1)?.state == .running })
        pool.stop()
        try await running.value
        #expect(try await store.job(id: 1)?.state == .succeeded)
        #expect(try await store.job(id: 2)?.state == .queued, "no new claims after stop")
    }

    @Test func attemptsCutShortByTheGracePeriodAreReleasedNotFailed() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        var registry = HandlerRegistry()
        registry.register(.enroll) { _ in
            try? await Task.sleep(for: .seconds(30))
            return .success()
        }
        let pool = WorkerPool(store: store, registry: registry,
                              options: .init(concurrency: 1, gracePeriod: .milliseconds(200)), logger: logger)
        let running = Task { try await pool.run() }
        _ = try await store.enqueue([job("slow")])
        #expect(try await waitUntil { try await store.job(id: 1)?.state == .running })
        pool.stop()
        try await running.value
        let released = try #require(try await store.job(id: 1))
        #expect(released.state == .queued && released.attempts == 0 && released.leaseOwner == nil)
        #expect(try await store.attempts(ofJob: 1).map(\.outcome) == ["released"])
    }

    @Test func aReplayByAnotherProcessIsPickedUpByThePoll() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let recorder = Recorder()
        var registry = HandlerRegistry()
        registry.register(.enroll) { job in
            recorder.start(job.job.dedupeKey)
            return recorder.count(job.job.dedupeKey) == 1 ? .permanent(reason: "course closed") : .success()
        }
        let pool = WorkerPool(store: store, registry: registry, options: .init(concurrency: 2), logger: logger)
        let running = Task { try await pool.run() }
        _ = try await store.enqueue([job("a")])
        #expect(try await waitUntil { try await store.job(id: 1)?.state == .failed })

        // The operator's CLI, a separate process on the same database file, while the workers run.
        let cli = try await runRegistrar(["jobs", "replay", "1"], workingDirectory: dir.path,
                                   environment: ["REGISTRAR_DATABASE": dir.file("registrar.sqlite")])
        #expect(cli.status == 0, "registrar jobs replay failed: \(cli.output)")
        // Nothing in this process rings the doorbell for the CLI's replay and no lease is involved, so
        // only the 1 s poll can find it. No bound on how soon: under the whole suite it has taken 4.3 s.
        #expect(try await waitUntil(timeout: .seconds(30)) { try await store.job(id: 1)?.state == .succeeded })
        pool.stop()
        try await running.value
        #expect(recorder.count("a") == 2)
        let actions = try #require(try await store.jobDetail(id: 1)).actions
        #expect(actions.count == 1 && actions[0].actor.hasPrefix("cli:"))
    }
}
