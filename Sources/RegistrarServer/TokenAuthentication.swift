import Hummingbird
import HummingbirdAuth
import RegistrarCore
import RegistrarStore

/// Finds the token behind `Authorization: Bearer …` and puts it in the context. A missing header passes through
/// (the role check answers it); a value that is no live token is refused here.
struct TokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = RegistrarRequestContext
    let tokens: any TokenStore

    func authenticate(request: Request, context: Context) async throws -> APIToken? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        let bearer = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let found: APIToken?
        do {
            found = try await tokens.authenticate(bearer: bearer)
        } catch {
            throw APIError(.serviceUnavailable, code: "database_unavailable", message: "tokens could not be read: \(error)")
        }
        guard let found else { throw APIError(.unauthorized, code: "bad_token", message: "the token is unknown or revoked") }
        return found
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
