import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

/// What several instances on one database share: a leader for the once-only chores, and one Open edX budget.
/// Both on the database's clock, so instances' clocks may drift without two leaders or a doubled rate.
extension PostgresStore: Leadership {
    public func lead(_ role: String, holder: String, term: Duration) async throws -> Bool {
        try await transaction { connection, now in
            let until = now.addingTimeInterval(term.seconds)
            return try await connection.query("""
                INSERT INTO registrar_leaders (role, holder, expires_at) VALUES (\(role), \(holder), \(until))
                ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE registrar_leaders.holder = excluded.holder OR registrar_leaders.expires_at < \(now)
                RETURNING 1
                """, logger: self.logger).first(Int32.self) != nil
        }
    }
}

extension PostgresStore: SharedPacing {
    /// One row, locked by each taker in turn: a slot costs one short transaction, at most a few a second.
    public func takeSlot(interval: Duration) async throws -> Duration {
        try await transaction { connection, now in
            let next = try await connection.query("""
                UPDATE openedx_budget SET next_slot = greatest(next_slot, paused_until, \(now)) + make_interval(secs => \(interval.seconds))
                WHERE id = 1 RETURNING next_slot
                """, logger: self.logger).first(Date.self)
            guard let next else { throw StoreError.corrupt("openedx_budget has no row") }
            let wait = next.addingTimeInterval(-interval.seconds).timeIntervalSince(now)
            return wait > 0 ? .milliseconds(Int64((wait * 1000).rounded(.up))) : .zero
        }
    }

    public func pauseEveryone(for duration: Duration) async throws {
        try await transaction { connection, now in
            let until = now.addingTimeInterval(duration.seconds)
            try await connection.query("""
                UPDATE openedx_budget SET paused_until = greatest(paused_until, \(until)) WHERE id = 1
                """, logger: self.logger)
        }
    }
}
