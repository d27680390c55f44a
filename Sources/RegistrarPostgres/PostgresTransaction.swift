import Foundation
import Logging
import PostgresNIO
import RegistrarCore
import RegistrarStore

/// A connection inside one transaction, its time and the store's settings: what the row helpers that read and
/// write inside a caller's transaction are given (GRDB's `Database` plays this part on SQLite).
struct Tx: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// The transaction's time: the database's clock, or a test's.
    let now: Date
    let store: PostgresStore

    var maxAttempts: Int { store.options.maxAttempts }

    func run(_ query: PostgresQuery) async throws {
        try await connection.query(query, logger: logger)
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await connection.query(query, logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
        try await rows(query).first
    }

    /// The first column of the first row; nil when there is no row (or the value is NULL, for an optional `T`).
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        for try await value in try await connection.query(query, logger: logger).decode(T.self) { return value }
        return nil
    }

    /// The rows a statement returned: with `RETURNING 1`, how many rows it changed.
    func count(_ query: PostgresQuery) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(query, logger: logger) { count += 1 }
        return count
    }

    func exists(_ query: PostgresQuery) async throws -> Bool {
        try await count(query) > 0
    }

    /// Holds every other transaction that asks for the same `key` back until this one ends: for a fact whose row
    /// may not exist yet (a WooCommerce order's first delivery, a new reference). Where the row exists, its
    /// `FOR UPDATE` lock does this, and also holds back writers that only update it.
    func lock(_ key: String) async throws {
        try await run("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 1))")
    }

    /// Inserts jobs inside this transaction (see `PostgresStore.insert`).
    func insert(_ jobs: [NewJob], deliveryID: Int64?) async throws -> [EnqueuedJob] {
        let enqueued = try await store.insert(jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, on: connection)
        try await store.notifyIf(enqueued.contains(where: \.created), on: connection)
        return enqueued
    }

    func audit(actor: String, action: String, jobID: Int64?, detail: String?) async throws {
        try await store.audit(actor: actor, action: action, jobID: jobID, detail: detail, at: now, on: connection)
    }
}

extension PostgresStore {
    /// A write that reads, decides and writes, in one READ COMMITTED transaction. Each such operation first locks
    /// what its decision rests on (the order, the code, the contract: `FOR UPDATE` on its row, or `Tx.lock` where
    /// the row may be new), so two instances deciding about the same thing take turns, each reading what the other
    /// committed, as SQLite's one writer has them; different things go side by side.
    func write<T: Sendable>(_ work: (Tx) async throws -> T) async throws -> T {
        try await transaction { connection, now in
            try await work(Tx(connection: connection, logger: self.logger, now: now, store: self))
        }
    }

    /// Reads in one snapshot (REPEATABLE READ, read only), so a page assembled from several queries is consistent.
    func snapshot<T: Sendable>(_ work: (Tx) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
            do {
                let now = try await self.clockNow(on: connection)
                let result = try await work(Tx(connection: connection, logger: self.logger, now: now, store: self))
                try await connection.query("COMMIT", logger: self.logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }
}
