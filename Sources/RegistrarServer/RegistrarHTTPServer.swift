import Hummingbird
import Logging
import NIOCore
import RegistrarCore
import RegistrarStore

/// The HTTP face of `serve`: intake endpoints, the token-guarded APIs, health and readiness.
public struct RegistrarHTTPServer: Sendable {
    public var config: RegistrarConfig
    public var store: any RegistrarStorage
    public var clock: any WallClock
    public var readiness: Readiness
    public var metrics: RegistrarMetrics
    public var logger: Logger

    public init(config: RegistrarConfig, store: any RegistrarStorage, clock: any WallClock = SystemWallClock(),
                readiness: Readiness, metrics: RegistrarMetrics, logger: Logger) {
        self.config = config
        self.store = store
        self.clock = clock
        self.readiness = readiness
        self.metrics = metrics
        self.logger = logger
    }

    public func router() -> Router<RegistrarRequestContext> {
        let router = Router(context: RegistrarRequestContext.self)
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
        let metrics = self.metrics
        let store = self.store
        router.get("/metrics") { _, _ -> Response in
            await metrics.refreshQueue(from: store)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        let woocommerce = WooCommerceIntake(config: config, ledger: store, metrics: metrics, logger: logger)
        let maxBody = config.server.maxBodyBytes
        router.post("/webhooks/woocommerce/:store") { request, context -> Response in
            let storeID = context.parameters.get("store") ?? ""
            // Only what intake reads or records: a map of every header costs more than the check.
            let headers = Self.headerMap(request.headers, keeping: WooCommerceIntake.isWorthKeeping)
            let body: [UInt8]
            switch await Self.collectBody(request, limit: maxBody) {
            case .tooLarge:
                let answer = await woocommerce.tooLarge(storeID: storeID, headers: headers, limit: maxBody)
                return JSONResponse.make(.init(code: answer.status), json: .object(answer.body))
            case .failed(let error):
                return JSONResponse.error(.badRequest, code: "unreadable_body", message: "the request body could not be read: \(error)")
            case .bytes(let bytes):
                body = bytes
            }
            let answer = await woocommerce.receive(storeID: storeID, headers: headers, body: body)
            return JSONResponse.make(.init(code: answer.status), json: .object(answer.body))
        }
        let callbacks = CyberSourceCallbacks(verifier: CallbackVerifier(config: config.cybersource), orders: store,
                                             ledger: store, clock: clock, metrics: metrics, logger: logger)
        router.post("/callbacks/cybersource") { request, _ -> Response in
            guard case .bytes(let body) = await Self.collectBody(request, limit: maxBody) else {
                return JSONResponse.error(.contentTooLarge, code: "too_large", message: "the callback is too large or unreadable")
            }
            return await callbacks.receive(headers: Self.headerMap(request.headers), body: body)
        }

        // Everything under /api/v1 needs a token; each group below admits its roles.
        let api = router.group("api/v1").add(middleware: TokenAuthenticator(tokens: store))
        OrdersAPI(config: config, orders: store, clock: clock, logger: logger).register(api, maxBody: maxBody)
        AdminAPI(store: store, clock: clock).register(api)
        return router
    }

    enum CollectedBody {
        case bytes([UInt8])
        case tooLarge
        case failed(any Error)
    }

    /// Reads the whole body, refusing more than `limit` bytes (announced or actual) without buffering them.
    static func collectBody(_ request: Request, limit: Int) async -> CollectedBody {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { return .tooLarge }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return .bytes(Array(buffer.readableBytesView))
        } catch is NIOTooManyBytesError {
            return .tooLarge
        } catch {
            return .failed(error)
        }
    }

    /// Headers by lower-cased name (the first of repeated ones), those `keeping` accepts.
    static func headerMap(_ fields: HTTPFields, keeping wanted: (String) -> Bool = { _ in true }) -> [String: String] {
        var map: [String: String] = [:]
        for field in fields {
            let name = field.name.canonicalName
            if wanted(name), map[name] == nil { map[name] = field.value }
        }
        return map
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

/// Runs `body`; a database failure becomes a 503 with the error, not a 500 without one.
func withDatabase(_ body: () async throws -> Response) async throws -> Response {
    do {
        return try await body()
    } catch let error as APIError {
        throw error
    } catch {
        return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
    }
}
