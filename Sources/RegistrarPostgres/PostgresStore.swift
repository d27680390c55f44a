import Foundation
import Logging
import PostgresNIO
import RegistrarCore
import RegistrarStore
import Synchronization

/// The shared backend: one PostgreSQL database that several Registrar instances use at once. Every operation is
/// one transaction, committed (`synchronous_commit=on`) before it returns; PostgreSQL batches concurrent commits'
/// flushes itself, so there is no group-commit writer here.
///
/// Times come from the database's clock (`now()` at the start of each transaction), so leases mean the same on
/// every instance however their clocks drift. A store opened with a `clock` uses it instead: tests move time.
public final class PostgresStore: Sendable {
    public let options: StoreOptions
    public let jobsAdded = Doorbell()
    /// Rung when a commit made a job runnable that other instances may run: one NOTIFY follows for many rings.
    let wakeOthers = Doorbell()
    let clock: (any WallClock)?
    let random: any UnitRandomSource
    let client: PostgresClient
    let logger: Logger
    private let running: Mutex<Task<Void, Never>?>
    private let listening: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let notifying: Mutex<Task<Void, Never>?> = Mutex(nil)
    let writes = Mutex(WriteStats())

    /// The schema version this build needs (`registrar migrate` brings a database to it).
    public static var schemaVersion: Int { PostgresMigrations.latest }

    /// The channel every instance listens on; a commit that makes a job runnable notifies it.
    static let wakeChannel = "registrar_jobs"

    /// Connects, and refuses a database whose schema is not this version's (`registrar migrate` brings it up to
    /// date); notifications from other instances ring `jobsAdded` from then on.
    public static func open(_ url: PostgresURL, options: StoreOptions, clock: (any WallClock)? = nil,
                            random: any UnitRandomSource = SystemUnitRandom(), maximumConnections: Int = 20,
                            logger: Logger = Logger(label: "registrar.postgres")) async throws -> PostgresStore {
        let store = try PostgresStore(url, options: options, clock: clock, random: random,
                                      maximumConnections: maximumConnections, logger: logger)
        do {
            let version = try await store.reachable(url) {
                try await PostgresMigrations.currentVersion(of: store.client, logger: logger)
            }
            guard version == PostgresMigrations.latest else {
                throw StoreError.cannotOpen(PostgresMigrations.outdatedMessage(found: version, database: url))
            }
        } catch {
            store.close()
            throw error
        }
        store.startListening()
        store.startNotifying()
        return store
    }

    /// Connects, creates or upgrades the schema under an advisory lock (so two instances migrating at once take
    /// turns), and closes. Returns the versions before and after.
    public static func migrate(_ url: PostgresURL, logger: Logger = Logger(label: "registrar.postgres")) async throws
        -> (from: Int, to: Int) {
        let store = try PostgresStore(url, options: StoreOptions(jobs: JobsConfig()), clock: nil, random: SystemUnitRandom(),
                                      maximumConnections: 2, logger: logger)
        defer { store.close() }
        try await store.reachable(url) { try await store.client.query("SELECT 1", logger: logger) }
        return try await PostgresMigrations.migrate(store.client, logger: logger)
    }

    private init(_ url: PostgresURL, options: StoreOptions, clock: (any WallClock)?, random: any UnitRandomSource,
                 maximumConnections: Int, logger: Logger) throws {
        self.options = options
        self.clock = clock
        self.random = random
        self.logger = logger
        var configuration = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user,
                                                         password: url.password, database: url.database,
                                                         tls: try Self.tls(url.sslMode))
        configuration.options.maximumConnections = maximumConnections
        // A 2xx means on disk: refuse a server or role configured to acknowledge commits before they are flushed.
        configuration.options.additionalStartupParameters = [("synchronous_commit", "on"), ("application_name", "registrar")]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // Started here, up to its first wait: the pool is marked running before the first query, which postgres-nio
        // otherwise answers with a warning in every command's output.
        running = Mutex(Task.immediate { await client.run() })
    }

    /// The pool keeps trying a server that refuses connections; a command should say so instead of hanging.
    @discardableResult
    private func reachable<T: Sendable>(_ url: PostgresURL, within limit: Duration = .seconds(15),
                                        _ first: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await first() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let result = try await group.next(), let value = result else {
                throw StoreError.cannotOpen("cannot reach PostgreSQL at \(url.host):\(url.port) (database \(url.database)) within \(limit)")
            }
            return value
        }
    }

    private static func tls(_ mode: PostgresURL.SSLMode) throws -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer, .require:
            var insecure = TLSConfiguration.makeClientConfiguration()
            insecure.certificateVerification = .none
            return mode == .prefer ? .prefer(insecure) : .require(insecure)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    /// Stops listening and closes every connection.
    public func close() {
        listening.withLock { $0?.cancel() }
        notifying.withLock { $0?.cancel() }
        running.withLock { $0?.cancel() }
    }

    /// Rings the doorbell after a commit that may have made a job runnable.
    func jobsMayRun(_ yes: Bool = true) {
        if yes { jobsAdded.ring() }
    }

    /// One connection listens for other instances' commits; each notification rings this instance's doorbell.
    /// Notifications sent while the connection is down are lost, which the workers' 1 s poll covers.
    private func startListening() {
        let client = self.client
        let doorbell = jobsAdded
        let logger = self.logger
        listening.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    do {
                        try await client.withConnection { connection in
                            try await connection.listen(on: Self.wakeChannel) { notifications in
                                for try await _ in notifications { doorbell.ring() }
                            }
                        }
                    } catch {
                        if Task.isCancelled { return }
                        logger.debug("listen connection lost; polling until it is back", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Sends the wake-up NOTIFY on its own, after the commits that asked for it: a little after a ring (the commit
    /// that rang is normally done by then; if not, the other instances' 1 s poll finds the job), then at most one
    /// every 50 ms however many commits ring meanwhile.
    private func startNotifying() {
        let client = self.client
        let rings = wakeOthers
        let logger = self.logger
        notifying.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    await rings.wait(timeout: .seconds(3600))
                    if Task.isCancelled { return }
                    try? await Task.sleep(for: .milliseconds(10))
                    do {
                        try await client.query("SELECT pg_notify(\(Self.wakeChannel), '')", logger: logger)
                    } catch {
                        logger.debug("wake-up notification not sent; the other instances poll", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: .milliseconds(40))
                }
            }
        }
    }

    /// Runs `work` in one READ COMMITTED transaction and returns after the commit, with the transaction's time.
    /// A deadlock (two transactions took the same locks in another order) or a serialization failure is retried
    /// from the start.
    func transaction<T: Sendable>(_ work: (PostgresConnection, Date) async throws -> T) async throws -> T {
        try await transaction { connection, now, _ in try await work(connection, now) }
    }

    /// `transaction`, with the statements `work` sends ahead (`Pipeline`) settled before the commit is counted.
    func transaction<T: Sendable>(_ work: (PostgresConnection, Date, Pipeline) async throws -> T) async throws -> T {
        try await retrying {
            try await client.withConnection { connection in
                // Named, not left to the server's default: under REPEATABLE READ a transaction that waited for a
                // lock would decide on what it saw before the wait.
                try await self.inTransaction("BEGIN ISOLATION LEVEL READ COMMITTED", on: connection, work)
            }
        }
    }

    /// Runs a write transaction (`attempt`) again when it failed on a deadlock or a serialization failure, and
    /// counts it once it committed, if `wrote` says its result is a write (a try that found nothing to do is not).
    func retrying<T: Sendable>(wrote: (T) -> Bool = { _ in true }, _ attempt: () async throws -> T) async throws -> T {
        var attempts = 0
        while true {
            attempts += 1
            do {
                let result = try await attempt()
                guard wrote(result) else { return result }
                writes.withLock { stats in
                    stats.transactions += 1
                    stats.writes += 1
                    stats.largestBatch = max(stats.largestBatch, 1)
                }
                return result
            } catch let error as PSQLError where Self.isRetryable(error) && attempts < 100 {
                // Jittered and growing, so transactions that collided do not collide again in step.
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...min(200, 4 * attempts))))
            }
        }
    }

    /// Begins with `begin`, runs `work`, commits. `BEGIN` is sent ahead of the clock's query and `COMMIT` behind
    /// whatever `work` sent ahead: the connection runs them in order, so only the answers anyone reads are waited
    /// for one by one. A statement sent ahead that failed leaves the transaction aborted, and its `COMMIT` then
    /// rolls back: the failure is what this throws.
    nonisolated(nonsending) func inTransaction<T: Sendable>(_ begin: PostgresQuery, on connection: PostgresConnection,
                                    _ work: (PostgresConnection, Date, Pipeline) async throws -> T) async throws -> T {
        let pipeline = Pipeline(connection: connection, logger: logger)
        pipeline.send(begin)
        return try await pipeline.committing {
            let now = try await clockNow(on: connection)
            try await pipeline.settle()
            return try await work(connection, now, pipeline)
        }
    }

    /// A read on its own connection, outside any transaction.
    func read<T: Sendable>(_ work: (PostgresConnection, Date) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await work(connection, try await self.clockNow(on: connection))
        }
    }

    func clockNow(on connection: PostgresConnection) async throws -> Date {
        if let clock { return clock.now() }
        for try await now in try await connection.query("SELECT now()", logger: logger).decode(Date.self) {
            return now
        }
        throw StoreError.corrupt("the server did not tell its time")
    }

    /// serialization_failure, deadlock_detected, and unique_violation on the one-running-job-per-key index (two
    /// claims racing for one key: the loser claims again and finds the key busy).
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        if state == "40001" || state == "40P01" { return true }
        return state == "23505" && error.serverInfo?[.constraintName] == "jobs_one_running_per_serial"
    }
}

extension PostgresStore: StoreHealth {
    public func probeWritable() async throws {
        try await write { tx in
            try await tx.run("""
                INSERT INTO heartbeat (id, at) VALUES (1, \(tx.now)) ON CONFLICT (id) DO UPDATE SET at = excluded.at
                """)
        }
    }

    public var writeStats: WriteStats { writes.withLock { $0 } }

    /// The database's size as the server counts it; the server's free disk is not visible from here.
    public func footprint() async throws -> StorageFootprint {
        try await read { connection, _ in
            for try await size in try await connection.query("SELECT pg_database_size(current_database())",
                                                             logger: logger).decode(Int64.self) {
                return StorageFootprint(databaseBytes: size, freeBytes: nil)
            }
            return StorageFootprint(databaseBytes: 0, freeBytes: nil)
        }
    }
}
