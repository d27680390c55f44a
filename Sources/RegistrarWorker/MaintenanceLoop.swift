import Foundation
import Logging
import RegistrarStore
import ServiceLifecycle

/// Housekeeping while `serve` runs: crash rescue of expired leases, and pruning of old succeeded jobs.
public struct MaintenanceLoop: Service {
    private let store: any JobQueue
    private let rescueInterval: Duration
    private let retention: Duration
    private let logger: Logger

    public init(store: any JobQueue, retention: Duration, logger: Logger, rescueInterval: Duration? = nil) {
        self.store = store
        self.retention = retention
        self.logger = logger
        // Check several times per lease so a crashed job waits little longer than its lease.
        self.rescueInterval = rescueInterval ?? min(.seconds(5), store.options.lease / 4)
    }

    public func run() async throws {
        var lastPrune: ContinuousClock.Instant?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            let prune = lastPrune.map { now - $0 >= .seconds(60) } ?? true
            if prune { lastPrune = now }
            await runOnce(prune: prune)
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
            var pruned = 0
            while true {
                let batch = try await store.pruneSucceeded(olderThan: retention)
                pruned += batch
                if batch == 0 || Task.isCancelled { break }
            }
            if pruned > 0 { logger.info("pruned succeeded jobs", metadata: ["jobs": "\(pruned)"]) }
        } catch {
            logger.error("pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
