import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarServer
import RegistrarStore
import RegistrarWorker
import ServiceLifecycle
import UnixSignals

/// Everything `serve` runs — HTTP intake, workers, maintenance — wired from one configuration, so `serve` and
/// `demo` run exactly the same daemon.
struct Daemon {
    let config: RegistrarConfig
    let logger: Logger
    let metrics: RegistrarMetrics
    let store: any RegistrarStorage
    let clock: any WallClock = SystemWallClock()
    let handlers: Handlers
    let workers: WorkerPool

    init(config: RegistrarConfig, logger: Logger) async throws {
        MemoryTuning.keepFreedMemory()
        FileDescriptorLimit.raiseToHardLimit(logger: logger)
        self.config = config
        self.logger = logger
        let metrics = RegistrarMetrics()
        self.metrics = metrics
        // For `registrar-bench intake` only: measures what group commit is worth in the real daemon.
        let groupCommit = ProcessInfo.processInfo.environment["REGISTRAR_BENCH_NO_GROUP_COMMIT"] != "1"
        store = try await Storage.open(config, groupCommit: groupCommit) { batch in metrics.groupCommit(batchSize: batch) }
        handlers = Handlers.production(config: config, store: store, metrics: metrics, logger: logger)
        workers = WorkerPool(
            store: store, registry: handlers.registry,
            options: .init(concurrency: config.jobs.concurrency,
                           pollInterval: .milliseconds(Int64(config.jobs.pollIntervalSeconds * 1000)),
                           gracePeriod: .milliseconds(Int64(config.jobs.shutdownGraceSeconds * 1000))),
            logger: logger, observer: MetricsWorkerObserver(metrics: metrics))
    }

    /// The services in start order. On shutdown ServiceGroup stops them in reverse: the HTTP server first (stop
    /// accepting, finish in-flight requests), then the workers (finish running attempts within the grace period,
    /// release the rest), then maintenance.
    func serviceGroup(signals: [UnixSignal], onListening: @escaping @Sendable (Int) async -> Void) -> ServiceGroup {
        let maintenance = MaintenanceLoop(store: store, retention: .init(
            succeededJobs: .seconds(config.jobs.retentionDays * 86400),
            deliveries: .seconds(config.deliveries.retentionDays * 86400),
            rejectedDeliveries: .seconds(config.deliveries.rejectedRetentionDays * 86400),
            minimumFreeBytes: Int64(config.databaseMinFreeMB) << 20), logger: logger, leads: Self.leadership(store, logger: logger))
        let workers = self.workers
        let readiness = Readiness(store: store, workersRunning: { !workers.isStopping })
        let openedx = handlers.openedx
        let titles = CourseTitles { courseID in
            if case .ok(let title, _) = await openedx.courseTitle(courseID) { return title }
            return nil
        }
        let server = RegistrarHTTPServer(config: config, store: store, clock: clock, readiness: readiness, metrics: metrics,
                                         logger: logger, courseTitles: titles, roster: LMSRoster(client: openedx, store: store),
                                         openEdXPause: { openedx.pausedFor })
        let app = server.application(onListening: onListening)
        let catchUp = CatchUpScheduler(store: store, stores: Array(config.woocommerce.stores.values), clock: clock, logger: logger)
        return ServiceGroup(configuration: .init(
            services: [.init(service: maintenance), .init(service: catchUp), .init(service: workers), .init(service: app)],
            gracefulShutdownSignals: signals,
            logger: logger))
    }

    /// With several instances on one database, the one that holds the lead prunes; it renews the lead on every
    /// maintenance round (5 s), so another takes over within its 15 s term if it stops.
    static func leadership(_ store: any RegistrarStorage, logger: Logger) -> @Sendable () async -> Bool {
        guard let leadership = store as? any Leadership else { return { true } }
        let holder = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
        return {
            do {
                return try await leadership.lead("maintenance", holder: holder, term: .seconds(15))
            } catch {
                logger.warning("could not ask for the maintenance lead", metadata: ["error": "\(error)"])
                return false
            }
        }
    }

    func close() {
        handlers.http.shutdown()
    }
}
