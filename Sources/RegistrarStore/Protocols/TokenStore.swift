import RegistrarCore

/// Bearer tokens for the HTTP API. Only a hash of each value is kept.
public protocol TokenStore: Sendable {
    /// Creates a token and returns its value: the only time it exists outside the caller. A revoked token's name
    /// may be used again; a live one's throws `TokenError.nameTaken`.
    /// - Parameters:
    ///   - scope: course id prefixes the token is limited to; nil for every course.
    ///   - maySetPrices: a storefront that may sell at other prices than the listed ones.
    func createToken(name: String, role: APIRole, scope: [String]?, maySetPrices: Bool) async throws -> String
    /// Every token, revoked ones included, by name.
    func tokens() async throws -> [APIToken]
    /// Throws `TokenError.notFound` when no live token has the name.
    func revokeToken(name: String) async throws
    /// The live token a bearer value belongs to, if any.
    func authenticate(bearer: String) async throws -> APIToken?
}

extension TokenStore {
    /// A token for every course.
    public func createToken(name: String, role: APIRole) async throws -> String {
        try await createToken(name: name, role: role, scope: nil, maySetPrices: false)
    }

    public func createToken(name: String, role: APIRole, scope: [String]?) async throws -> String {
        try await createToken(name: name, role: role, scope: scope, maySetPrices: false)
    }
}
