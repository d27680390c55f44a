import Foundation
import Hummingbird
import Logging
import NIOCore

/// The request context: Hummingbird's basics plus the connection, which the `reset` fault closes.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// The whole request pipeline: route, count, inject faults, authenticate, throttle, apply.
/// Faults come before authentication because a proxy in front of the LMS fails regardless.
struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxRequestContext

    let state: SandboxState

    func respond(to request: Request, context: Context) async throws -> Response {
        let method = request.method.rawValue
        let path = request.uri.path
        let segments = RequestParsing.pathSegments(path)
        let route: Route
        switch Route.match(method: method, segments: segments) {
        case .failure(let error):
            await state.countRequest("\(method) (unmatched)")
            return error.reply.response()
        case .success(let (matched, name)):
            route = matched
            await state.countRequest(name)
        }

        var dropAfterAnswering = false
        if route.injectsFaults {
            let plan = await state.planFault()
            if plan.latency > .zero { try await Task.sleep(for: plan.latency) }
            switch plan.fault {
            case .reset?:
                dropAfterAnswering = true
            case .slow?:
                try await Task.sleep(for: plan.slowDelay)
            case let kind?:
                if let reply = FaultReply.reply(for: kind) { return reply.response() }
            case nil:
                break
            }
        }

        var request = request
        let bodyBytes = try await request.collectBody(upTo: 4 * 1024 * 1024)
        // Links are built from the Host the client used; without one, from the bound address.
        let origin: String
        if let authority = request.head.authority {
            origin = "http://\(authority)"
        } else {
            origin = await state.origin
        }
        let incoming = IncomingRequest(
            method: method,
            path: path,
            segments: segments,
            query: RequestParsing.formDecode(Substring(request.uri.query ?? "")),
            body: Data(buffer: bodyBytes),
            contentType: request.headers[.contentType],
            authorization: request.headers[.authorization],
            origin: origin
        )

        let reply = await answer(route, incoming)
        if dropAfterAnswering {
            try await ConnectionReset.drop(context.channel)
        }
        return reply.response()
    }

    private func answer(_ route: Route, _ incoming: IncomingRequest) async -> Reply {
        var caller: Caller?
        switch route.auth {
        case .none:
            break
        case .openEdX:
            switch await state.authenticate(incoming.authorization) {
            case .failure(let error): return error.reply
            case .success(let authenticated): caller = authenticated
            }
            if route.isThrottled, let caller, let throttled = await state.throttle(caller) {
                return throttled
            }
        case .wooCommerce:
            if let down = await state.wooDownReply() { return down }
            if let error = await state.authorizeWoo(incoming, listing: { if case .wooOrders = route { return true } else { return false } }()) {
                return error.reply
            }
        }

        var body: SandboxJSON = [:]
        if route.takesJSONBody {
            switch Self.readBody(incoming) {
            case .failure(let error): return error.reply
            case .success(let value): body = value
            }
        }
        return await state.handle(route, incoming, body: body, caller: caller)
    }

    /// DRF's parsers: JSON, or a form read flat; anything else is 415.
    private static func readBody(_ incoming: IncomingRequest) -> Result<SandboxJSON, ReplyError> {
        if incoming.body.isEmpty { return .success([:]) }
        let contentType = incoming.contentType?.lowercased() ?? "application/json"
        if contentType.hasPrefix("application/x-www-form-urlencoded") {
            var fields: [String: SandboxJSON] = [:]
            for (key, value) in incoming.formBody() { fields[key] = .string(value) }
            return .success(.object(fields))
        }
        guard contentType.contains("json") else {
            return .failure(ReplyError(reply: .detail(.unsupportedMediaType, "Unsupported media type \"\(incoming.contentType ?? "")\" in request.")))
        }
        switch incoming.jsonBody() {
        case .success(let value)?: return .success(value)
        case .failure(let failure)?: return .failure(ReplyError(reply: .jsonParseError(failure)))
        case nil: return .success([:])
        }
    }
}

/// Ends a connection with a TCP reset and no HTTP answer. SO_LINGER 0 makes close() send RST
/// instead of FIN, so the client sees "connection reset by peer" rather than an empty reply.
enum ConnectionReset {
    struct Dropped: Error {}

    static func drop(_ channel: any Channel) async throws -> Never {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close().get()
        // Hummingbird turns the error into a 500, whose write then fails on the closed channel:
        // nothing reaches the client.
        throw Dropped()
    }
}
