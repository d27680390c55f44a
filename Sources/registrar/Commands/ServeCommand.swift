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
        let daemon = try await Daemon(config: config, logger: logger)
        defer { daemon.close() }
        let group = daemon.serviceGroup(signals: [.sigterm, .sigint]) { port in
            logger.info("listening", metadata: ["address": "http://\(config.server.host):\(port)",
                                                "database": "\(config.database)"])
        }
        try await group.run()
    }
}

extension LogFormat: ExpressibleByArgument {}
