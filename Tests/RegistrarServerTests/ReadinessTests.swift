import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import RegistrarStore
import Synchronization
import TestSupport
import Testing

/// Counts the probe writes `/readyz` starts, and how many are in flight at once.
final class CountingHealth: StoreHealth {
    let base: any StoreHealth
    let started = Mutex(0)
    let inFlight = Mutex((now: 0, most: 0))

    init(_ base: any StoreHealth) { self.base = base }

    func probeWritable() async throws {
        started.withLock { $0 += 1 }
        inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
        defer { inFlight.withLock { $0.now -= 1 } }
        try await base.probeWritable()
    }

    var writeStats: WriteStats { base.writeStats }

    func footprint() async throws -> StorageFootprint { try await base.footprint() }
}

@Suite struct ReadinessTests {
    /// Another connection holds SQLite's write lock, as a stuck disk would hold the writer, for as long as the
    /// test needs (the store would wait 30 s for it): every `/readyz` answers 503 soon after its 1 s timeout, and the
    /// checks share one probe write instead of queueing one each. The bound is 20 s, not 1 s: on two cores, with
    /// the 2,000-connection tests running beside it, answers were seen at up to 18 s; the store's own wait (30 s),
    /// which the old readiness waited out, stays well above it.
    @Test func readinessAnswersInTimeWhileTheDatabaseIsStuckWithOneProbeInFlight() async throws {
        let counting = Mutex<CountingHealth?>(nil)
        let harness = try ServerHarness(busyTimeout: .seconds(120), health: { store in
            let health = CountingHealth(store)
            counting.withLock { $0 = health }
            return health
        }, readinessTimeout: .seconds(1))
        let health = try #require(counting.withLock { $0 })
        let blocker = try DatabaseQueue(path: harness.config.database)
        let locked = Mutex(false)
        let release = Mutex(false)
        let done = Mutex(false)
        // On a thread of its own: blocking one of the concurrency pool's few threads could stall the whole run.
        Thread {
            try? blocker.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.withLock { $0 = true }
                while !release.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.01) }
                try db.execute(sql: "ROLLBACK")
            }
            done.withLock { $0 = true }
        }.start()
        defer { release.withLock { $0 = true } }
        #expect(try await waitUntil(timeout: .seconds(5)) { locked.withLock { $0 } })

        try await harness.test { client in
            @Sendable func readyz() async throws -> (status: Int, seconds: Double) {
                let started = ContinuousClock.now
                let status = try await client.execute(uri: "/readyz", method: .get) { $0.status.code }
                let elapsed = ContinuousClock.now - started
                return (status, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            for _ in 0..<3 {
                let answer = try await readyz()
                #expect(answer.status == 503)
                // Far above the 1 s timeout (a run starved by the whole suite took 24 s), far below the 120 s a probe
                // that did not time out would wait for the lock.
                #expect(answer.seconds < 60, "/readyz took \(answer.seconds) s with a 1 s timeout")
            }
            let together = try await withThrowingTaskGroup(of: (status: Int, seconds: Double).self) { group in
                for _ in 0..<8 { group.addTask { try await readyz() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(together.allSatisfy { $0.status == 503 && $0.seconds < 60 }, "\(together)")
            #expect(health.started.withLock { $0 } == 1, "probes queued behind a stuck write")
            #expect(health.inFlight.withLock { $0.most } == 1)

            // The disk recovers: the probe in flight commits, and the next check is ready again.
            release.withLock { $0 = true }
            #expect(try await waitUntil(timeout: .seconds(5)) { done.withLock { $0 } })
            #expect(try await waitUntil(timeout: .seconds(10)) { try await readyz().status == 200 })
        }
    }
}
