import Foundation
import Logging
import PostgresNIO
import RegistrarCore
import RegistrarStore
import Synchronization

/// A connection inside one transaction, its time and the store's settings: what the row helpers that read and
/// write inside a caller's transaction are given (GRDB's `Database` plays this part on SQLite).
struct Tx: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// The transaction's time: the database's clock, or a test's.
    let now: Date
    let store: PostgresStore
    /// Statements sent ahead of their answers; the commit waits for them.
    let pipeline: Pipeline

    var maxAttempts: Int { store.options.maxAttempts }

    /// Runs `query` to its end. Its whole answer is read: postgres-nio answers a statement that returns rows as soon
    /// as their description arrives, so a `SELECT … FOR UPDATE` that then failed (a deadlock while it waited) would
    /// otherwise go unnoticed.
    func run(_ query: PostgresQuery) async throws {
        let answer: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        _ = try await answer.get()
    }

    /// Sends a statement whose answer nobody reads (an insert or update that cannot change what this transaction
    /// decides) without waiting for it: the next statement that is waited for, or the commit, runs after it, and
    /// its failure fails the transaction.
    func send(_ query: PostgresQuery) {
        pipeline.send(query)
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
    func value<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
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
    /// Sent ahead: the statement after it runs once the lock is held.
    func lock(_ key: String) async throws {
        send("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 1))")
    }

    /// Inserts jobs inside this transaction (see `PostgresStore.insert`).
    func insert(_ jobs: [NewJob], deliveryID: Int64?) async throws -> [EnqueuedJob] {
        let enqueued = try await store.insert(jobs, deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, on: connection,
                                            pipeline: pipeline)
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
        try await transaction { connection, now, pipeline in
            try await work(Tx(connection: connection, logger: self.logger, now: now, store: self, pipeline: pipeline))
        }
    }

    /// Reads in one snapshot (REPEATABLE READ, read only), so a page assembled from several queries is consistent.
    func snapshot<T: Sendable>(_ work: (Tx) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await self.inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", on: connection) { connection, now, pipeline in
                try await work(Tx(connection: connection, logger: self.logger, now: now, store: self, pipeline: pipeline))
            }
        }
    }
}

/// Statements sent on a transaction's connection without waiting for their answers. postgres-nio queues a
/// connection's statements and sends each when the server is done with the one before, on the connection's event
/// loop, so a run of statements sent ahead costs the server's time for each but only one wait here.
final class Pipeline: Sendable {
    private let connection: PostgresConnection
    private let logger: Logger
    private let sent = Mutex<[EventLoopFuture<PostgresQueryResult>]>([])

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Sends `query`; its answer is there for a caller that reads it once `settle` has returned.
    @discardableResult
    func send(_ query: PostgresQuery) -> EventLoopFuture<PostgresQueryResult> {
        let answer: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        sent.withLock { $0.append(answer) }
        return answer
    }

    /// Waits for every statement sent so far; throws the first one's failure.
    func settle() async throws {
        if let failure = await firstFailure() { throw failure }
    }

    /// Sends `COMMIT` behind everything sent and waits for all of it. PostgreSQL answers the `COMMIT` of an
    /// aborted transaction with "ROLLBACK" and no error: whatever failure made it so, this throws.
    func commit() async throws {
        let answer = send("COMMIT")
        try await settle()
        let tag = try await answer.get().metadata.command
        guard tag == "COMMIT" else { throw RolledBack(tag: tag) }
    }

    /// Runs `body` in the transaction begun on this pipeline, then commits; on any failure rolls back and throws.
    /// A statement sent ahead that failed made the later ones fail ("transaction is aborted"): its failure is the
    /// one thrown (a deadlock is retried).
    nonisolated(nonsending) func committing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            try await commit()
            return result
        } catch {
            let failure = await firstFailure() ?? error
            // Behind everything sent ahead, so nothing of this transaction runs after it.
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw failure
        }
    }

    /// A `COMMIT` that did not commit.
    struct RolledBack: Error, CustomStringConvertible {
        let tag: String
        var description: String { "the transaction was rolled back: the server answered \(tag) to COMMIT" }
    }

    /// Waits for every statement sent so far and returns the first one's failure: once one fails, the ones after
    /// it fail only because the transaction is aborted.
    func firstFailure() async -> (any Error)? {
        let answers = sent.withLock { sent in
            defer { sent.removeAll() }
            return sent
        }
        var failure: (any Error)?
        for answer in answers {
            do { _ = try await answer.get() } catch { failure = failure ?? error }
        }
        return failure
    }
}
