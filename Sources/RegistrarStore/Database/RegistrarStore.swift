import Foundation
import GRDB
import RegistrarCore

/// The durable state of Registrar: one SQLite file in WAL mode with `synchronous=FULL`, shared safely by
/// `serve` and any number of operator commands running at the same time.
public final class RegistrarStore: Sendable {
    public struct Options: Sendable {
        public var maxAttempts: Int
        public var lease: Duration
        public var retry: RetryRule
        /// Off only in the benchmark that measures what group commit is worth.
        public var groupCommit = true
        /// How long a writer waits for another process's write lock before giving up.
        public var busyTimeout: Duration = .seconds(10)

        public init(maxAttempts: Int, lease: Duration, retry: RetryRule) {
            self.maxAttempts = maxAttempts
            self.lease = lease
            self.retry = retry
        }

        public init(jobs: JobsConfig) {
            self.init(maxAttempts: jobs.maxAttempts, lease: .milliseconds(Int64(jobs.leaseSeconds * 1000)),
                      retry: RetryRule(backoff: jobs.backoff))
        }
    }

    public let path: String
    public let options: Options
    public let clock: any WallClock
    public let random: any UnitRandomSource
    /// Rung after every commit that adds or re-queues jobs, so this process's workers start at once.
    public let jobsAdded = Doorbell()
    let pool: DatabasePool
    let writer: GroupCommitWriter

    public init(path: String, options: Options, clock: any WallClock = SystemWallClock(),
                random: any UnitRandomSource = SystemUnitRandom(),
                onCommit: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        self.path = path
        self.options = options
        self.clock = clock
        self.random = random
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeout.seconds)
        configuration.prepareDatabase { db in
            // Every commit is flushed to disk before it returns: a 2xx after a commit survives power loss.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Each group-committed caller runs in a savepoint, and SQLite journals the pages a savepoint touches
            // to a statement journal that spills to a temporary file past 64 KiB: under load that was ~60 small
            // pwrite calls per delivery on the one writer's thread. Crash recovery never reads that journal (the
            // WAL is what survives), so keeping it in memory costs no durability.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        configuration.label = "registrar"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // DatabasePool switches the writer to WAL *after* prepareDatabase and sets `synchronous = NORMAL`
            // as it does, which flushes the WAL only at checkpoints: a commit could be lost to a power cut.
            // The writer is one long-lived connection, so setting FULL again here holds for every commit.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw StoreError.notFound("cannot open database \(path): \(error)")
        }
        try Migrations.migrator.migrate(pool)
        writer = GroupCommitWriter(pool: pool, batching: options.groupCommit, onCommit: onCommit)
    }

    /// Runs `work` in the process's one write transaction stream (group-committed) and returns after the commit.
    /// Everything `work` does commits or rolls back as one.
    public func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.write(work)
    }

    public func read<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(work)
    }

    /// How many transactions carried how many writes since start: proof that group commit batches.
    public var writeStats: (transactions: Int, writes: Int, largestBatch: Int) {
        let stats = writer.stats
        return (stats.transactions, stats.writes, stats.largestBatch)
    }

    /// The pragmas in force on the connection that commits (readers' settings do not make writes durable),
    /// for tests and `/readyz`.
    public func pragmas() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
             try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    public func close() throws {
        try pool.close()
    }
}

extension RegistrarStore {
    /// Commits a heartbeat through the same writer as intake: proves the file takes writes right now (a
    /// read-only or full disk, a stuck writer), at the price of one small commit per probe.
    public func probeWritable() async throws {
        let now = clock.now()
        try await write { db in
            try db.execute(sql: "INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at",
                           arguments: [now])
        }
    }
}
