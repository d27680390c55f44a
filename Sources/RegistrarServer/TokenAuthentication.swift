import Hummingbird
import HummingbirdAuth
import RegistrarCore
import RegistrarStore
import Synchronization

/// Finds the token behind `Authorization: Bearer …` and puts it in the context. A missing header passes through
/// (the role check answers it); a value that is no live token is refused here.
struct TokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = RegistrarRequestContext
    let tokens: any TokenStore
    let recent: RecentTokens

    init(tokens: any TokenStore, recent: RecentTokens = RecentTokens()) {
        self.tokens = tokens
        self.recent = recent
    }

    func authenticate(request: Request, context: Context) async throws -> APIToken? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        let bearer = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let hash = TokenSecret.hash(bearer)
        if let known = recent.token(hash: hash) { return known }
        let found: APIToken?
        do {
            found = try await tokens.authenticate(bearer: bearer)
        } catch {
            throw APIError(.serviceUnavailable, code: "database_unavailable", message: "tokens could not be read: \(error)")
        }
        guard let found else { throw APIError(.unauthorized, code: "bad_token", message: "the token is unknown or revoked") }
        recent.remember(found, hash: hash)
        return found
    }
}

/// Tokens found in the last second, by hash: a storefront's burst of requests reads its token once a second
/// rather than once per request (a reader connection and a thread hop each, about a tenth of a redemption's
/// time). A revoked token is refused within a second; an unknown one is looked up every time.
final class RecentTokens: Sendable {
    private let entries = Mutex<[String: (token: APIToken, until: ContinuousClock.Instant)]>([:])
    private let lifetime: Duration

    init(lifetime: Duration = .seconds(1)) { self.lifetime = lifetime }

    func token(hash: String) -> APIToken? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            if entry.until > now { return entry.token }
            entries[hash] = nil
            return nil
        }
    }

    func remember(_ token: APIToken, hash: String) {
        let until = ContinuousClock.now + lifetime
        entries.withLock { entries in
            // A handful of tokens is the normal case; many means many clients, and forgetting costs one read each.
            if entries.count >= 1024 { entries.removeAll(keepingCapacity: true) }
            entries[hash] = (token, until)
        }
    }
}

/// Admits only tokens of the group's roles: 401 without a token, 403 with a token of another role. On a group,
/// so a route cannot be added without its check.
struct RequireRole: RouterMiddleware {
    typealias Context = RegistrarRequestContext
    let roles: Set<APIRole>

    init(_ roles: APIRole...) { self.roles = Set(roles) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response {
        guard let token = context.identity else {
            throw APIError(.unauthorized, code: "missing_token",
                           message: "send Authorization: Bearer <token> (see `registrar tokens create`)")
        }
        guard roles.contains(token.role) else {
            let allowed = roles.map(\.rawValue).sorted().joined(separator: ", ")
            throw APIError(.forbidden, code: "wrong_role",
                           message: "token \(token.name) has role \(token.role.rawValue); this needs \(allowed)")
        }
        return try await next(request, context)
    }
}

/// A refusal with Registrar's JSON error body, thrown from middleware and routes alike.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.error(status, code: code, message: message)
    }
}
