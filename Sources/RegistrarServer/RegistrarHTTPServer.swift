import Hummingbird
import Logging
import RegistrarCore
import RegistrarStore

/// The HTTP face of `serve`: intake endpoints, health and readiness.
public struct RegistrarHTTPServer: Sendable {
    public var config: RegistrarConfig
    public var store: RegistrarStore
    public var readiness: Readiness
    public var logger: Logger

    public init(config: RegistrarConfig, store: RegistrarStore, readiness: Readiness, logger: Logger) {
        self.config = config
        self.store = store
        self.readiness = readiness
        self.logger = logger
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in
            JSONResponse.make(.ok, ["status": "ok"])
        }
        let readiness = self.readiness
        router.get("/readyz") { _, _ in
            if let problem = await readiness.problem() {
                return JSONResponse.error(.serviceUnavailable, code: "not_ready", message: problem)
            }
            return JSONResponse.make(.ok, ["status": "ready"])
        }
        return router
    }

    /// The Hummingbird application; `onListening` receives the bound port (useful with port 0).
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(config.server.host, port: config.server.port),
                                 serverName: "registrar"),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? config.server.port)
            },
            logger: logger
        )
    }
}
