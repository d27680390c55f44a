import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: TokenStore {
    public func createToken(name: String, role: APIRole, scope: [String]?, maySetPrices: Bool) async throws -> String {
        let token = TokenSecret.make()
        let hash = TokenSecret.hash(token)
        let now = clock.now()
        try await write { db in
            if let revoked = try Bool.fetchOne(db, sql: "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE name = ?",
                                               arguments: [name]) {
                guard revoked else { throw TokenError.nameTaken(name) }
                try db.execute(sql: "DELETE FROM api_tokens WHERE name = ?", arguments: [name])
            }
            try db.execute(sql: """
                INSERT INTO api_tokens (name, role, token_hash, created_at, scope, may_set_prices) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [name, role.rawValue, hash, now, try scope.map { try JSONText.encode($0) }, maySetPrices])
        }
        return token
    }

    public func tokens() async throws -> [APIToken] {
        try await read { db in try TokenRecord.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY name").map(\.token) }
    }

    public func revokeToken(name: String) async throws {
        let now = clock.now()
        try await write { db in
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                           arguments: [now, name])
            if db.changesCount == 0 { throw TokenError.notFound(name) }
        }
    }

    public func authenticate(bearer: String) async throws -> APIToken? {
        let hash = TokenSecret.hash(bearer)
        return try await read { db in
            try TokenRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"),
                                     arguments: [hash])?.token
        }
    }
}
