import Foundation
import Logging
import RegistrarStore
import ServiceLifecycle

/// Housekeeping while `serve` runs: crash rescue of expired leases, and pruning of old succeeded jobs.
public struct MaintenanceLoop: Service {
    private let store: RegistrarStore
    private let rescueInterval: Duration
    private let retention: Duration
    private let logger: Logger

    public init(store: RegistrarStore, retention: Duration, logger: Logger, rescueInterval: Duration? = nil) {
        self.store = store
        self.retention = retention
        self.logger = logger
        // Check several times per lease so a crashed job waits little longer than its lease.
        self.rescueInterval = rescueInterval ?? min(.seconds(5), store.options.lease / 4)
    }

    public func run() async throws {
        var lastPrune = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await runOnce(prune: ContinuousClock.now - lastPrune >= .seconds(60))
            if ContinuousClock.now - lastPrune >= .seconds(60) { lastPrune = .now }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: rescueInterval) }
        }
    }

    public func runOnce(prune: Bool) async {
        do {
            let rescued = try await store.rescueExpiredLeases()
            if rescued > 0 { logger.warning("rescued jobs whose lease expired", metadata: ["jobs": "\(rescued)"]) }
        } catch {
            logger.error("lease rescue failed", metadata: ["error": "\(error)"])
        }
        guard prune else { return }
        do {
            let cutoff = store.clock.now().addingTimeInterval(-retention.seconds)
            var pruned = 0
            while true {
                let batch = try await store.pruneSucceeded(finishedBefore: cutoff)
                pruned += batch
                if batch == 0 || Task.isCancelled { break }
            }
            if pruned > 0 { logger.info("pruned succeeded jobs", metadata: ["jobs": "\(pruned)"]) }
        } catch {
            logger.error("pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
