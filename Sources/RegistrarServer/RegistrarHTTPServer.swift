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
    /// Display names for the learner's pages; without it they show course keys.
    public var courseTitles: CourseTitles?
    /// The LMS's enrollment lists for the audit; without it `/api/v1/reports/audit` answers 502.
    public var roster: (any EnrollmentRoster)?
    /// The Open edX pacer's 429 pause, for the console's overview; nil where no workers run in this process.
    public var openEdXPause: (@Sendable () -> Duration?)?

    public init(config: RegistrarConfig, store: any RegistrarStorage, clock: any WallClock = SystemWallClock(),
                readiness: Readiness, metrics: RegistrarMetrics, logger: Logger, courseTitles: CourseTitles? = nil,
                roster: (any EnrollmentRoster)? = nil, openEdXPause: (@Sendable () -> Duration?)? = nil) {
        self.openEdXPause = openEdXPause
        self.courseTitles = courseTitles
        self.roster = roster
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
        let gate = RejectionGate(perMinute: config.server.rejectionsPerMinute, clock: clock, metrics: metrics)
        let clients = ClientAddressResolver(trustedProxies: config.server.trustedProxies)
        let woocommerce = WooCommerceIntake(config: config, ledger: store, metrics: metrics, gate: gate, logger: logger)
        let maxBody = config.server.maxBodyBytes
        router.post("/webhooks/woocommerce/:store") { request, context -> Response in
            let storeID = context.parameters.get("store") ?? ""
            let client = Self.client(request, context, clients)
            // Only what intake reads or records: a map of every header costs more than the check.
            let headers = Self.headerMap(request.headers, keeping: WooCommerceIntake.isWorthKeeping)
            let body: [UInt8]
            switch await Self.collectBody(request, limit: maxBody) {
            case .tooLarge(let unread):
                let answer = await woocommerce.tooLarge(storeID: storeID, headers: headers, body: unread, limit: maxBody,
                                                        client: client)
                return JSONResponse.make(.init(code: answer.status), json: .object(answer.body))
            case .failed(let error):
                return JSONResponse.error(.badRequest, code: "unreadable_body", message: "the request body could not be read: \(error)")
            case .bytes(let bytes):
                body = bytes
            }
            let answer = await woocommerce.receive(storeID: storeID, headers: headers, body: body, client: client)
            return JSONResponse.make(.init(code: answer.status), json: .object(answer.body))
        }
        let callbacks = CyberSourceCallbacks(verifier: CallbackVerifier(config: config.cybersource), orders: store,
                                             ledger: store, clock: clock, metrics: metrics, gate: gate, logger: logger)
        router.post("/callbacks/cybersource") { request, context -> Response in
            let client = Self.client(request, context, clients)
            switch await Self.collectBody(request, limit: maxBody) {
            case .bytes(let body):
                return await callbacks.receive(headers: Self.headerMap(request.headers), body: body, client: client)
            case .tooLarge(let unread):
                return await callbacks.tooLarge(headers: Self.headerMap(request.headers), body: unread, limit: maxBody,
                                                client: client)
            case .failed(let error):
                return JSONResponse.error(.badRequest, code: "unreadable_body", message: "the request body could not be read: \(error)")
            }
        }

        // Everything under /api/v1 needs a token; each group below admits its roles.
        let api = router.group("api/v1").add(middleware: TokenAuthenticator(tokens: store))
        // One signer for the storefront's orders and for priced codes' orders.
        let signer = CheckoutSigner(cybersource: config.cybersource, holdMinutes: config.orders.holdMinutes, clock: clock)
        OrdersAPI(config: config, orders: store, prices: store, codes: store, signer: signer, logger: logger).register(api, maxBody: maxBody)
        AdminAPI(store: store, clock: clock).register(api)
        let desk = RedemptionDesk(codes: store, failures: RedemptionFailureGate(perMinute: config.codes.redeemFailuresPerMinute,
                                                                                 clock: clock), signer: signer, logger: logger)
        CodesAPI(codes: store, desk: desk, logger: logger).register(api, maxBody: maxBody) { request, context in
            Self.client(request, context, clients)
        }
        InvoicesAPI(store: store, publicURL: config.server.publicURL, logger: logger).register(api, maxBody: maxBody)
        ContractsAPI(store: store, config: config, clock: clock, logger: logger).register(api, maxBody: maxBody)
        PricesAPI(store: store, logger: logger).register(api, maxBody: maxBody)
        CouponsAPI(store: store, logger: logger).register(api, maxBody: maxBody)
        ReportsAPI(desk: ReportDesk(store: store, roster: roster, staff: config.reports.staffEmails), logger: logger)
            .register(api, maxBody: maxBody)
        RedeemPage(desk: desk, lmsURL: config.openedx.lmsURL, policy: config.openedx.unknownLearner, titles: courseTitles)
            .register(router, maxBody: min(maxBody, 16_384)) { request, context in Self.client(request, context, clients) }
        WebConsole(store: store, config: config, clock: clock, metrics: metrics, openEdXPause: openEdXPause, logger: logger)
            .register(router, maxBody: maxBody)
        return router
    }

    enum CollectedBody {
        case bytes([UInt8])
        /// Over the limit: what is known of it (size, and a hash when it was read through).
        case tooLarge(StoredBody)
        case failed(any Error)
    }

    /// A body this many times the limit is not read through to hash it: the sender pays for its bandwidth, not us.
    static let hashedOversizeFactor = 16

    /// Reads the whole body, keeping at most `limit` bytes. A body over the limit is still read (up to
    /// `hashedOversizeFactor` times it) to count and hash it for the ledger, keeping none of it.
    static func collectBody(_ request: Request, limit: Int) async -> CollectedBody {
        let announced = request.headers[.contentLength].flatMap(Int.init)
        if let announced, announced > limit * hashedOversizeFactor {
            return .tooLarge(.unread(size: announced, sha256: nil))
        }
        if let announced, announced <= limit {
            var request = request
            do {
                let buffer = try await request.collectBody(upTo: limit)
                return .bytes(Array(buffer.readableBytesView))
            } catch is NIOTooManyBytesError {
                // It said less than it sent: what it sent is not known whole, so neither is its hash.
                return .tooLarge(.unread(size: limit + 1, sha256: nil))
            } catch {
                return .failed(error)
            }
        }
        var kept: [UInt8] = []
        var digest: StreamingBodyDigest?
        do {
            for try await buffer in request.body {
                if digest == nil, kept.count + buffer.readableBytes > limit {
                    var started = StreamingBodyDigest()
                    kept.withUnsafeBytes { started.update($0) }
                    kept = []
                    digest = started
                }
                if var running = digest {
                    buffer.withUnsafeReadableBytes { running.update($0) }
                    digest = running
                    if running.count > limit * hashedOversizeFactor { return .tooLarge(.unread(size: running.count, sha256: nil)) }
                } else {
                    kept.append(contentsOf: buffer.readableBytesView)
                }
            }
        } catch {
            return .failed(error)
        }
        if let digest { return .tooLarge(.unread(size: digest.count, sha256: digest.finalize())) }
        return .bytes(kept)
    }

    /// The address a request's rejections count against.
    static func client(_ request: Request, _ context: RegistrarRequestContext, _ resolver: ClientAddressResolver) -> String {
        // Only a trusted proxy's X-Forwarded-For is read, so the common case reads no header at all.
        guard !resolver.trusted.isEmpty, let peer = context.peerAddress, let address = IPAddress(peer),
              resolver.isTrusted(address) else {
            return context.peerAddress ?? "unknown"
        }
        return resolver.resolve(peer: peer, forwardedFor: request.headers[values: .init("X-Forwarded-For")!])
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
