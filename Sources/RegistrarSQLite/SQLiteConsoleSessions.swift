import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: ConsoleSessions {
    public func startSession(bearer: String) async throws -> (id: String, session: ConsoleSession)? {
        guard let token = try await authenticate(bearer: bearer), ConsoleAccess.maySignIn(token.role) else { return nil }
        let id = TokenSecret.make()
        let csrf = TokenSecret.make()
        let now = clock.now()
        try await write { db in
            // Sessions past their longest life are of no use to anyone: cleared as new ones start.
            try db.execute(sql: "DELETE FROM console_sessions WHERE created_at < ?",
                           arguments: [now.addingTimeInterval(-ConsoleSessionRules.longest)])
            try db.execute(sql: """
                INSERT INTO console_sessions (id_hash, token_hash, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [TokenSecret.hash(id), TokenSecret.hash(bearer), csrf, now, now])
        }
        return (id, ConsoleSession(token: token, csrf: csrf, createdAt: now, lastSeenAt: now))
    }

    public func session(id: String, idle: TimeInterval) async throws -> ConsoleSession? {
        let hash = TokenSecret.hash(id)
        let now = clock.now()
        let found = try await read { db -> ConsoleSession? in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT s.csrf, s.created_at, s.last_seen_at, t.* FROM console_sessions s
                JOIN api_tokens t ON t.token_hash = s.token_hash AND t.revoked_at IS NULL
                WHERE s.id_hash = ? AND s.ended_at IS NULL
                """), arguments: [hash]) else { return nil }
            let token = try TokenRecord(row: row).token
            return ConsoleSession(token: token, csrf: row["csrf"], createdAt: row["created_at"], lastSeenAt: row["last_seen_at"])
        }
        guard var session = found,
              !ConsoleSessionRules.expired(createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, now: now, idle: idle) else {
            return nil
        }
        if ConsoleSessionRules.shouldTouch(lastSeenAt: session.lastSeenAt, now: now) {
            try await write { db in
                try db.execute(sql: "UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?", arguments: [now, hash])
            }
            session.lastSeenAt = now
        }
        return session
    }

    public func endSession(id: String) async throws {
        let now = clock.now()
        try await write { db in
            try db.execute(sql: "UPDATE console_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL",
                           arguments: [now, TokenSecret.hash(id)])
        }
    }
}

extension SQLiteStore: AuditTrail {
    public func auditTrail(before: Int64?, limit: Int) async throws -> [OperatorAction] {
        try await read { db in
            try ActionRecord.fetchAll(db, sql: "SELECT * FROM operator_actions WHERE id < ? ORDER BY id DESC LIMIT ?",
                                      arguments: [before ?? Int64.max, limit]).map(\.action)
        }
    }
}
