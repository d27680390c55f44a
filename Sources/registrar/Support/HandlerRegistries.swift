import Logging
import RegistrarCore
import RegistrarStore
import RegistrarWorker

/// The handlers `serve` runs, by job kind.
enum HandlerRegistries {
    static func production(config: RegistrarConfig, store: RegistrarStore, logger: Logger) -> HandlerRegistry {
        HandlerRegistry()
    }
}
