import Foundation
import Hummingbird

/// A live access token.
struct TokenRecord: Sendable {
    var clientID: String
    var expires: ContinuousClock.Instant
}

/// Who an API call is made as, once its token checks out.
struct Caller: Sendable {
    var clientID: String
    /// The OAuth application's user (global staff), also the default `user` of an enrollment.
    var username: String { clientID }
}

extension SandboxState {
    /// `POST /oauth2/access_token`, client-credentials grant, as django-oauth-toolkit answers it.
    /// The grant is checked before the client, as oauthlib does.
    func issueToken(form: [(String, String)], authorization: String?) -> Reply {
        func field(_ name: String) -> String? { form.last(where: { $0.0 == name })?.1 }
        guard let grant = field("grant_type"), !grant.isEmpty else {
            return .json(.badRequest, ["error": "unsupported_grant_type"])
        }
        guard grant == "client_credentials" else {
            return .json(.badRequest, ["error": "unsupported_grant_type"])
        }
        var clientID = field("client_id")
        var clientSecret = field("client_secret")
        if let (basicID, basicSecret) = BasicAuth.parse(authorization) {
            clientID = basicID
            clientSecret = basicSecret
        }
        guard clientID == configuration.clientID, clientSecret == configuration.clientSecret,
            let clientID
        else {
            return .json(.unauthorized, ["error": "invalid_client"])
        }

        let ttlSeconds = max(0, Int(configuration.tokenTTL.components.seconds))
        let wantsJWT = field("token_type")?.lowercased() == "jwt"
        stats.tokensIssued += 1
        let token = wantsJWT
            ? makeJWT(clientID: clientID, ttlSeconds: ttlSeconds, serial: stats.tokensIssued)
            : Self.randomHex(bytes: 15)
        tokens[token] = TokenRecord(clientID: clientID, expires: .now + configuration.tokenTTL)
        return .json(
            .ok,
            [
                "access_token": .string(token),
                "token_type": wantsJWT ? "JWT" : "Bearer",
                "expires_in": .int(ttlSeconds),
                "scope": "read write email profile",
            ],
            headers: [.cacheControl: "no-store", .init("Pragma")!: "no-cache"]
        )
    }

    /// Checks `Authorization: JWT <t>` or `Bearer <t>` as the LMS's JwtAuthentication and
    /// BearerAuthentication do; the error bodies are theirs.
    func authenticate(_ authorization: String?) -> Result<Caller, ReplyError> {
        let unauthorized = { (detail: String) -> ReplyError in
            ReplyError(reply: .detail(.unauthorized, detail, headers: [.wwwAuthenticate: "JWT realm=\"api\""]))
        }
        guard let authorization, !authorization.isEmpty else {
            return .failure(unauthorized("Authentication credentials were not provided."))
        }
        let parts = authorization.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, ["jwt", "bearer"].contains(parts[0].lowercased()) else {
            return .failure(unauthorized("Authentication credentials were not provided."))
        }
        guard let record = tokens[String(parts[1])] else {
            return .failure(unauthorized("Invalid token."))
        }
        guard ContinuousClock.now < record.expires else {
            return .failure(unauthorized("Signature has expired."))
        }
        return .success(Caller(clientID: record.clientID))
    }

    /// Revokes every live token; the next API call with one of them gets 401.
    func revokeTokens() -> Int {
        let count = tokens.count
        tokens.removeAll()
        return count
    }

    /// An unsigned-but-well-formed JWT carrying the claims the LMS puts in its tokens, so a
    /// client that peeks at `exp` sees a sensible value.
    private func makeJWT(clientID: String, ttlSeconds: Int, serial: Int) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header: SandboxJSON = ["alg": "HS256", "kid": "sandbox", "typ": "JWT"]
        let payload: SandboxJSON = [
            "aud": "openedx", "iss": .string("\(origin)/oauth2"), "iat": .int(now), "exp": .int(now + ttlSeconds),
            "sub": .string(clientID), "preferred_username": .string(clientID), "administrator": true,
            "scopes": ["read", "write", "email", "profile"], "version": "1.2.0", "filters": [],
            "jti": .string("\(serial)-\(Self.randomHex(bytes: 8))"),
        ]
        func part(_ json: SandboxJSON) -> String { Self.base64URL((try? json.encoded()) ?? Data()) }
        let signature = Self.base64URL(Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
        return "\(part(header)).\(part(payload)).\(signature)"
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func randomHex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// A reply carried as an error, for checks that end a request early.
struct ReplyError: Error {
    var reply: Reply
}

enum BasicAuth {
    /// (user, password) of an `Authorization: Basic …` header.
    static func parse(_ header: String?) -> (String, String)? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
