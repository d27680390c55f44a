import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: TokenStore {
    public func createToken(name: String, role: APIRole, scope: [String]?, maySetPrices: Bool) async throws -> String {
        let token = TokenSecret.make()
        let hash = TokenSecret.hash(token)
        let scopeText = try scope.map { try JSONText.encode($0) }
        try await write { tx in
            try await tx.lock("token:" + name)
            if let revoked = try await tx.value("SELECT revoked_at IS NOT NULL FROM api_tokens WHERE name = \(name)", as: Bool.self) {
                guard revoked else { throw TokenError.nameTaken(name) }
                try await tx.run("DELETE FROM api_tokens WHERE name = \(name)")
            }
            try await tx.run("""
                INSERT INTO api_tokens (name, role, token_hash, created_at, scope, may_set_prices)
                VALUES (\(name), \(role.rawValue), \(hash), \(tx.now), \(scopeText), \(maySetPrices))
                """)
        }
        return token
    }

    public func tokens() async throws -> [APIToken] {
        try await snapshot { tx in try await tx.rows("SELECT * FROM api_tokens ORDER BY name").map(Self.token) }
    }

    public func revokeToken(name: String) async throws {
        try await write { tx in
            guard try await tx.exists("""
                UPDATE api_tokens SET revoked_at = \(tx.now) WHERE name = \(name) AND revoked_at IS NULL RETURNING 1
                """) else { throw TokenError.notFound(name) }
        }
    }

    public func authenticate(bearer: String) async throws -> APIToken? {
        let hash = TokenSecret.hash(bearer)
        return try await read { connection, _ in
            var rows: [APIToken] = []
            for try await row in try await connection.query("SELECT * FROM api_tokens WHERE token_hash = \(hash) AND revoked_at IS NULL",
                                                            logger: self.logger) {
                rows.append(try Self.token(row.makeRandomAccess()))
            }
            return rows.first
        }
    }

    static func token(_ r: PostgresRandomAccessRow) throws -> APIToken {
        let name: String = try r.value("name")
        let roleText: String = try r.value("role")
        guard let role = APIRole(rawValue: roleText) else { throw StoreError.corrupt("token \(name) has unknown role \(roleText)") }
        let scope: String? = try r.value("scope")
        return APIToken(name: name, role: role, createdAt: try r.value("created_at"), revokedAt: try r.value("revoked_at"),
                        scope: try scope.map { try JSONText.decode([String].self, from: $0) }, maySetPrices: try r.value("may_set_prices"))
    }
}

extension PostgresStore: LearnerCache {
    public func cachedUsername(email: String) async throws -> String? {
        try await read { connection, _ in
            try await connection.query("SELECT username FROM learner_accounts WHERE email = \(email)", logger: self.logger)
                .first(String.self)
        }
    }

    public func cacheUsername(_ username: String, email: String) async throws {
        try await write { tx in
            try await tx.run("""
                INSERT INTO learner_accounts (email, username, looked_up_at) VALUES (\(email), \(username), \(tx.now))
                ON CONFLICT (email) DO UPDATE SET username = excluded.username, looked_up_at = excluded.looked_up_at
                """)
        }
    }

    public func forgetUsername(email: String) async throws {
        try await write { tx in
            try await tx.run("DELETE FROM learner_accounts WHERE email = \(email)")
        }
    }
}

extension PostgresStore: ConsoleSessions {
    public func startSession(bearer: String) async throws -> (id: String, session: ConsoleSession)? {
        guard let token = try await authenticate(bearer: bearer), ConsoleAccess.maySignIn(token.role) else { return nil }
        let id = TokenSecret.make()
        let csrf = TokenSecret.make()
        let created = try await transaction { connection, now in
            // Sessions past their longest life are of no use to anyone: cleared as new ones start.
            try await connection.query("DELETE FROM console_sessions WHERE created_at < \(now.addingTimeInterval(-ConsoleSessionRules.longest))",
                                       logger: self.logger)
            try await connection.query("""
                INSERT INTO console_sessions (id_hash, token_hash, csrf, created_at, last_seen_at)
                VALUES (\(TokenSecret.hash(id)), \(TokenSecret.hash(bearer)), \(csrf), \(now), \(now))
                """, logger: self.logger)
            return now
        }
        return (id, ConsoleSession(token: token, csrf: csrf, createdAt: created, lastSeenAt: created))
    }

    public func session(id: String, idle: TimeInterval) async throws -> ConsoleSession? {
        let hash = TokenSecret.hash(id)
        let (found, now) = try await snapshot { tx -> (ConsoleSession?, Date) in
            guard let row = try await tx.row("""
                SELECT s.csrf, s.created_at AS session_created_at, s.last_seen_at, t.* FROM console_sessions s
                JOIN api_tokens t ON t.token_hash = s.token_hash AND t.revoked_at IS NULL
                WHERE s.id_hash = \(hash) AND s.ended_at IS NULL
                """) else { return (nil, tx.now) }
            return (ConsoleSession(token: try Self.token(row), csrf: try row.value("csrf"), createdAt: try row.value("session_created_at"),
                                   lastSeenAt: try row.value("last_seen_at")), tx.now)
        }
        guard var session = found,
              !ConsoleSessionRules.expired(createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, now: now, idle: idle) else {
            return nil
        }
        if ConsoleSessionRules.shouldTouch(lastSeenAt: session.lastSeenAt, now: now) {
            try await write { tx in
                try await tx.run("UPDATE console_sessions SET last_seen_at = \(now) WHERE id_hash = \(hash)")
            }
            session.lastSeenAt = now
        }
        return session
    }

    public func endSession(id: String) async throws {
        try await write { tx in
            try await tx.run("""
                UPDATE console_sessions SET ended_at = \(tx.now) WHERE id_hash = \(TokenSecret.hash(id)) AND ended_at IS NULL
                """)
        }
    }
}

extension PostgresStore: AuditTrail {
    public func auditTrail(before: Int64?, limit: Int) async throws -> [OperatorAction] {
        try await read { connection, _ in
            try await connection.query("""
                SELECT * FROM operator_actions WHERE id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)
                """, logger: self.logger).all(OperatorAction.init(row:))
        }
    }
}
