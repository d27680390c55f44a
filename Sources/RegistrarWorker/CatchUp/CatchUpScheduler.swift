import Foundation
import Logging
import RegistrarCore
import RegistrarStore
import ServiceLifecycle

/// Asks for a `woocommerce.catch-up` job per store every `catch_up.interval_seconds` while `serve` runs, and
/// once at start (what was missed while Registrar was down comes in at once).
///
/// The job's dedupe key names the interval (its number since 1970), so instances sharing a database ask for the
/// same job. None is asked for while one of the store's is queued or running: a store that is down keeps one
/// job retrying with backoff, not a new one per interval piling up behind it.
public struct CatchUpScheduler: Service {
    private let store: any JobQueue & JobOperations
    private let stores: [StoreConfig]
    private let clock: any WallClock
    private let tick: Duration
    private let logger: Logger

    /// - Parameter stores: the stores to catch up; those without `catchUpEnabled` are left out.
    public init(store: any JobQueue & JobOperations, stores: [StoreConfig], clock: any WallClock = SystemWallClock(),
                tick: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.stores = stores.filter(\.catchUpEnabled).sorted { $0.id < $1.id }
        self.clock = clock
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        guard !stores.isEmpty else {
            // A service that returns early stops the whole group: wait for the shutdown instead.
            try? await gracefulShutdown()
            return
        }
        var due: [String: Date] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = clock.now()
            for config in stores where now >= due[config.id] ?? .distantPast {
                let interval = Double(config.catchUp.intervalSeconds)
                let slot = Int64((now.timeIntervalSince1970 / interval).rounded(.down))
                do {
                    try await askForCatchUp(config, slot: slot)
                    due[config.id] = Date(timeIntervalSince1970: Double(slot + 1) * interval)
                } catch {
                    // The database is what failed: try again at the next tick.
                    logger.error("could not schedule a catch-up", metadata: ["store": "\(config.id)", "error": "\(error)"])
                }
            }
            try? await Task.sleep(for: tick)
        }
    }

    /// Enqueues the store's catch-up job for `slot` unless one of its catch-ups is queued or running.
    func askForCatchUp(_ config: StoreConfig, slot: Int64) async throws {
        let serial = WooKeys.catchUpSerial(store: config.id)
        for state in [JobState.running, .queued] {
            let live = try await store.jobs(JobFilter(state: state, kind: .woocommerceCatchUp, limit: 1000))
            if live.contains(where: { $0.serialKey == serial }) { return }
        }
        let job = NewJob(kind: .woocommerceCatchUp, dedupeKey: WooKeys.catchUp(store: config.id, slot: slot), serialKey: serial,
                         payload: WooCatchUpPayload(store: config.id).jsonText, source: "catch-up:\(config.id)")
        _ = try await store.enqueue([job])
    }
}
