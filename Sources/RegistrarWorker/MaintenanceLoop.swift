import Foundation
import Logging
import RegistrarStore
import ServiceLifecycle

/// Housekeeping while `serve` runs: crash rescue of expired leases, pruning of old succeeded jobs and old
/// deliveries, and a warning while the database's disk runs low.
public struct MaintenanceLoop: Service {
    /// How long each kind of record is kept, and the free space below which to warn.
    public struct Retention: Sendable {
        public var succeededJobs: Duration
        public var deliveries: Duration
        public var rejectedDeliveries: Duration
        public var minimumFreeBytes: Int64

        public init(succeededJobs: Duration, deliveries: Duration, rejectedDeliveries: Duration, minimumFreeBytes: Int64) {
            self.succeededJobs = succeededJobs
            self.deliveries = deliveries
            self.rejectedDeliveries = rejectedDeliveries
            self.minimumFreeBytes = minimumFreeBytes
        }
    }

    private let store: any JobQueue & DeliveryLog & StoreHealth
    private let rescueInterval: Duration
    private let retention: Retention
    private let logger: Logger
    private let leads: @Sendable () async -> Bool

    /// - Parameter leads: whether this instance does the once-a-minute pruning now (with several instances on one
    ///   database, only the elected one does; rescue is safe anywhere and runs on each).
    public init(store: any JobQueue & DeliveryLog & StoreHealth, retention: Retention, logger: Logger,
                rescueInterval: Duration? = nil, leads: @escaping @Sendable () async -> Bool = { true }) {
        self.store = store
        self.leads = leads
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

    /// One round: rescue always; with `prune`, the once-a-minute work (pruning, the disk check).
    public func runOnce(prune: Bool) async {
        do {
            let rescued = try await store.rescueExpiredLeases()
            if rescued > 0 { logger.warning("rescued jobs whose lease expired", metadata: ["jobs": "\(rescued)"]) }
        } catch {
            logger.error("lease rescue failed", metadata: ["error": "\(error)"])
        }
        // Asked every round, so a leader keeps its term between prunes.
        let leading = await leads()
        guard prune, leading else { return }
        await pruneAll("succeeded jobs") { try await store.pruneSucceeded(olderThan: retention.succeededJobs) }
        await pruneAll("deliveries") {
            try await store.pruneDeliveries(olderThan: retention.deliveries, rejectedOlderThan: retention.rejectedDeliveries,
                                            limit: 10_000)
        }
        await checkDisk()
    }

    private func pruneAll(_ what: String, batch: () async throws -> Int) async {
        do {
            var pruned = 0
            while true {
                let count = try await batch()
                pruned += count
                if count == 0 || Task.isCancelled { break }
            }
            if pruned > 0 { logger.info("pruned \(what)", metadata: ["count": "\(pruned)"]) }
        } catch {
            logger.error("pruning \(what) failed", metadata: ["error": "\(error)"])
        }
    }

    /// Warns (once a minute, with the prune) while the database's volume has less free space than configured:
    /// a full disk refuses every delivery, and WooCommerce never sends one again.
    private func checkDisk() async {
        guard let footprint = try? await store.footprint(), let free = footprint.freeBytes else { return }
        if free < retention.minimumFreeBytes {
            logger.warning("the database's disk is nearly full: deliveries will be refused when it is", metadata: [
                "free_mb": "\(free >> 20)", "database_mb": "\(footprint.databaseBytes >> 20)",
                "threshold_mb": "\(retention.minimumFreeBytes >> 20)",
            ])
        }
    }
}
