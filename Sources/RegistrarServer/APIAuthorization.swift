import Hummingbird
import RegistrarStore

/// Bearer-token authorisation for `/api/v1`: every route names the roles it admits.
struct APIAuthorization: Sendable {
    let store: RegistrarStore

    /// The caller's token when it holds one of `roles`, else the 401/403 answer to send.
    func authorize(_ request: Request, roles: Set<APIRole>) async -> Result<APIToken, APIRefusal> {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return .failure(APIRefusal(response: JSONResponse.error(
                .unauthorized, code: "missing_token", message: "send Authorization: Bearer <token> (see `registrar tokens create`)")))
        }
        let bearer = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let found: APIToken?
        do {
            found = try await store.authenticate(bearer: bearer)
        } catch {
            return .failure(APIRefusal(response: JSONResponse.error(.serviceUnavailable, code: "database_unavailable",
                                                                    message: "tokens could not be read: \(error)")))
        }
        guard let token = found else {
            return .failure(APIRefusal(response: JSONResponse.error(.unauthorized, code: "bad_token",
                                                                    message: "the token is unknown or revoked")))
        }
        guard let role = APIRole(rawValue: token.role), roles.contains(role) else {
            let allowed = roles.map(\.rawValue).sorted().joined(separator: ", ")
            return .failure(APIRefusal(response: JSONResponse.error(
                .forbidden, code: "wrong_role", message: "token \(token.name) has role \(token.role); this needs \(allowed)")))
        }
        return .success(token)
    }
}

struct APIRefusal: Error {
    var response: Response
}
