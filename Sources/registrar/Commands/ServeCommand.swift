import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarServer
import RegistrarStore
import RegistrarWorker
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run HTTP intake, the workers and maintenance until SIGTERM or SIGINT."
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Log format: text or json (overrides logging.format).") var logFormat: LogFormat?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (overrides logging.level).")
    var logLevel: String?

    func run() async throws {
        var loaded = try global.loadConfig()
        if let logFormat { loaded.logging.format = logFormat }
        if let logLevel {
            guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
            loaded.logging.level = logLevel
        }
        let config = loaded
        let logger = makeLogger(config.logging, label: "registrar")
        for warning in config.warnings { logger.warning("\(warning)") }
        let metrics = RegistrarMetrics()
        let store = try global.openStore(config) { batch in metrics.groupCommit(batchSize: batch) }
        let handlers = Handlers.production(config: config, store: store, metrics: metrics, logger: logger)
        defer { handlers.http.shutdown() }
        let workers = WorkerPool(
            store: store, registry: handlers.registry,
            options: .init(concurrency: config.jobs.concurrency,
                           pollInterval: .milliseconds(Int64(config.jobs.pollIntervalSeconds * 1000))),
            logger: logger, observer: MetricsWorkerObserver(metrics: metrics))
        let maintenance = MaintenanceLoop(store: store, retention: .seconds(config.jobs.retentionDays * 86400),
                                          logger: logger)
        let readiness = Readiness(store: store, workersRunning: { !workers.isStopping })
        let server = RegistrarHTTPServer(config: config, store: store, readiness: readiness, metrics: metrics,
                                         logger: logger)
        let app = server.application { port in
            logger.info("listening", metadata: ["address": "http://\(config.server.host):\(port)",
                                                "database": "\(config.database)"])
        }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: app),
                .init(service: workers),
                .init(service: maintenance),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

extension LogFormat: ExpressibleByArgument {}
