import Logging
import RegistrarCore

/// A logger for the configured level. (JSON lines come with the operations work; text goes to stderr.)
func makeLogger(_ config: LoggingConfig, label: String) -> Logger {
    var logger = Logger(label: label) { label in StreamLogHandler.standardError(label: label) }
    logger.logLevel = Logger.Level(rawValue: config.level) ?? .info
    return logger
}
