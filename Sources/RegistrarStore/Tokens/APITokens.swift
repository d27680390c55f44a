import Crypto
import Foundation
import GRDB
import RegistrarCore

/// Roles of API tokens; each route names the roles it admits.
public enum APIRole: String, Sendable, CaseIterable, Codable {
    /// Registers orders and reads them (a storefront).
    case storefront
    /// Reads and replays jobs, reads deliveries and orders (operators).
    case ops
    /// Reviews payments and orders.
    case financeAdmin = "finance_admin"
    /// Contracts and codes (later features).
    case salesAdmin = "sales_admin"
}

public struct APIToken: Sendable, Equatable, FetchableRecord {
    public var name: String
    public var role: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(row: Row) {
        name = row["name"]
        role = row["role"]
        createdAt = row["created_at"]
        revokedAt = row["revoked_at"]
    }
}

public enum TokenError: Error, Sendable, CustomStringConvertible {
    case nameTaken(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .nameTaken(let name): "a token named \(name) exists already (revoke it first, or pick another name)"
        case .notFound(let name): "no active token named \(name)"
        }
    }
}

extension RegistrarStore {
    /// Creates a token and returns it; this is the only time its value exists outside the caller.
    public func createToken(name: String, role: APIRole) async throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let token = "rgt_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let hash = Self.tokenHash(token)
        let now = clock.now()
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ?", arguments: [name]) == true {
                let revoked = try Bool.fetchOne(db, sql: "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE name = ?",
                                                arguments: [name]) ?? false
                guard revoked else { throw TokenError.nameTaken(name) }
                try db.execute(sql: "DELETE FROM api_tokens WHERE name = ?", arguments: [name])
            }
            try db.execute(sql: "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, role.rawValue, hash, now])
        }
        return token
    }

    public func tokens() async throws -> [APIToken] {
        try await read { db in try APIToken.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY name") }
    }

    public func revokeToken(name: String) async throws {
        let now = clock.now()
        try await write { db in
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                           arguments: [now, name])
            if db.changesCount == 0 { throw TokenError.notFound(name) }
        }
    }

    /// The live token a bearer value belongs to, if any. Looked up by hash, so the comparison never touches
    /// the secret itself.
    public func authenticate(bearer: String) async throws -> APIToken? {
        let hash = Self.tokenHash(bearer)
        return try await read { db in
            try APIToken.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                                  arguments: [hash])
        }
    }

    static func tokenHash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
