import Foundation
import GRDB
import RegistrarStore

extension SQLiteStore: LearnerCache {
    public func cachedUsername(email: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT username FROM learner_accounts WHERE email = ?", arguments: [email])
        }
    }

    public func cacheUsername(_ username: String, email: String) async throws {
        let now = clock.now()
        try await write { db in
            try db.execute(sql: """
                INSERT INTO learner_accounts (email, username, looked_up_at) VALUES (?, ?, ?)
                ON CONFLICT(email) DO UPDATE SET username = excluded.username, looked_up_at = excluded.looked_up_at
                """, arguments: [email, username, now])
        }
    }

    public func forgetUsername(email: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM learner_accounts WHERE email = ?", arguments: [email])
        }
    }
}
