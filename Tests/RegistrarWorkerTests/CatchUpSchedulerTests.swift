import Foundation
import Logging
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import RegistrarWorker
import TestSupport
import Testing

/// `CatchUpScheduler`: a catch-up job per enabled store at start and each interval, never a second one while
/// one of the store's is queued or running.
@Suite struct CatchUpSchedulerTests {
    func store(_ id: String, interval: Int = 60, keys: Bool = true) -> StoreConfig {
        var config = StoreConfig(id: id, webhookSecret: Secret("s"))
        if keys {
            config.url = "https://\(id).example.com"
            config.consumerKey = Secret("ck")
            config.consumerSecret = Secret("cs")
        }
        config.catchUp.intervalSeconds = interval
        return config
    }

    @Test func asksOncePerIntervalAndNotWhileOneIsWaiting() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_010))
        let sqlite = try SQLiteStore(path: dir.file("r.sqlite"), options: StoreOptions(jobs: JobsConfig()), clock: clock)
        defer { try? sqlite.close() }
        let scheduler = CatchUpScheduler(store: sqlite, stores: [store("main"), store("off", interval: 0), store("bare", keys: false)],
                                         clock: clock, tick: .milliseconds(10), logger: Logger(label: "test"))
        let running = Task { try await scheduler.run() }
        defer { running.cancel() }
        func catchUps() async throws -> [Job] { try await sqlite.jobs(JobFilter(kind: .woocommerceCatchUp)) }

        #expect(try await waitUntil(timeout: .seconds(90)) { try await catchUps().count == 1 })
        let first = try #require(try await catchUps().first)
        #expect(first.dedupeKey == "woocommerce.catch-up:main:30000000")
        #expect(first.serialKey == "woocommerce.catch-up:main")
        #expect(try first.decodePayload(WooCatchUpPayload.self) == WooCatchUpPayload(store: "main"))

        // The next interval, but the first is still queued (a store that is down): no second job.
        clock.advance(60)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await catchUps().count == 1)

        // Once it has run, the next interval asks again, once.
        let claimed = try await sqlite.claim(owner: "w", limit: 5)
        try await sqlite.finish(try #require(claimed.first), outcome: .success())
        clock.advance(60)
        #expect(try await waitUntil(timeout: .seconds(90)) { try await catchUps().count == 2 })
        try await Task.sleep(for: .milliseconds(100))
        // The second is the interval in which the scheduler saw the first finished: the one just begun, or (on a
        // machine too busy to tick in the 100 ms above) the one before.
        let keys = try await catchUps().map(\.dedupeKey).sorted()
        #expect(keys.count == 2 && keys[0] == "woocommerce.catch-up:main:30000000", "\(keys)")
        #expect(["woocommerce.catch-up:main:30000001", "woocommerce.catch-up:main:30000002"].contains(keys.last ?? ""), "\(keys)")
    }
}
