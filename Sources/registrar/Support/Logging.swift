import Logging
import RegistrarCore

/// A logger for the configured level and format: text for people, JSON lines for log shippers. Either way to
/// stderr, so `--json` output on stdout stays clean.
func makeLogger(_ config: LoggingConfig, label: String) -> Logger {
    var logger: Logger
    switch config.format {
    case .text: logger = Logger(label: label) { TextLogHandler(label: $0) }
    case .json: logger = Logger(label: label) { JSONLogHandler(label: $0) }
    }
    logger.logLevel = Logger.Level(rawValue: config.level) ?? .info
    return logger
}
