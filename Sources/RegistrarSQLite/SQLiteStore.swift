import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, shared safely by `serve` and any
/// number of operator commands running at the same time. Every write of the process goes through one
/// group-committing writer; reads run on a pool of readers.
public final class SQLiteStore: Sendable {
    public let path: String
    public let options: StoreOptions
    public let jobsAdded = Doorbell()
    let clock: any WallClock
    let random: any UnitRandomSource
    let pool: DatabasePool
    let writer: GroupCommitWriter

    /// Opens (creating it if needed) and migrates the database at `path`.
    ///
    /// - Parameters:
    ///   - groupCommit: off only to measure what group commit is worth (one transaction per caller).
    ///   - busyTimeout: how long a write waits for another process's write lock before giving up.
    ///   - onCommit: told the size of every committed batch (for metrics).
    public init(path: String, options: StoreOptions, groupCommit: Bool = true, busyTimeout: Duration = .seconds(10),
                clock: any WallClock = SystemWallClock(), random: any UnitRandomSource = SystemUnitRandom(),
                onCommit: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        self.path = path
        self.options = options
        self.clock = clock
        self.random = random
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout.seconds)
        configuration.prepareDatabase { db in
            // Every commit is flushed to disk before it returns: a 2xx after a commit survives power loss.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // When a batch is run again with each caller in a savepoint, SQLite journals the pages a savepoint
            // touches to a statement journal that spills to a temporary file past 64 KiB. Crash recovery never
            // reads that journal (the WAL is what survives), so keeping it in memory costs no durability.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        configuration.label = "registrar"
        do {
            try Self.createPrivately(path)
            pool = try DatabasePool(path: path, configuration: configuration)
            // DatabasePool switches the writer to WAL *after* prepareDatabase and sets `synchronous = NORMAL`
            // as it does, which flushes the WAL only at checkpoints: a commit could be lost to a power cut.
            // The writer is one long-lived connection, so setting FULL again here holds for every commit.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Migrations.migrator.migrate(pool)
        } catch {
            throw StoreError.cannotOpen("cannot open database \(path): \(error)")
        }
        writer = GroupCommitWriter(pool: pool, batching: groupCommit, onCommit: onCommit)
    }

    /// Creates the database file readable by its owner only, whatever the umask: it holds order emails and
    /// delivery bodies. SQLite gives the WAL and the shared-memory file the main file's permissions.
    static func createPrivately(_ path: String) throws {
        guard path != ":memory:", !path.hasPrefix("file:") else { return }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return }
            throw StoreError.cannotOpen("cannot create database \(path): \(String(cString: strerror(errno)))")
        }
        defer { closeDescriptor(fd) }
        guard fchmod(fd, 0o600) == 0 else {
            throw StoreError.cannotOpen("cannot make database \(path) private: \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `work` in the process's one stream of write transactions (group-committed) and returns after the
    /// commit. Everything `work` does commits or rolls back as one.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.write(work)
    }

    /// One transaction, outside the group commit, with foreign-key enforcement off: deleting a delivery would
    /// otherwise make SQLite look for jobs that refer to it, a scan of the jobs table per deleted row (no index
    /// serves it). The caller checks the references itself. Serialized with every other write by the pool.
    func writeWithoutForeignKeys<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try work(db)
                return .commit
            }
            return result!
        }
    }

    func read<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(work)
    }

    /// The pragmas in force on the connection that commits (readers' settings do not make writes durable).
    public func pragmas() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
             try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    public func close() throws {
        try pool.close()
    }

    /// Rings the doorbell after a commit that may have made a job runnable.
    func jobsMayRun(_ yes: Bool = true) {
        if yes { jobsAdded.ring() }
    }
}

extension SQLiteStore: StoreHealth {
    public func probeWritable() async throws {
        let now = clock.now()
        try await write { db in
            try db.execute(sql: "INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at",
                           arguments: [now])
        }
    }

    public var writeStats: WriteStats { writer.stats }

    public func footprint() async throws -> StorageFootprint {
        var bytes: Int64 = 0
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            if stat(file, &info) == 0 { bytes += Int64(info.st_size) }
        }
        let directory = (path as NSString).deletingLastPathComponent
        var volume = statvfs()
        let free: Int64? = statvfs(directory.isEmpty ? "." : directory, &volume) == 0
            ? Int64(volume.f_bavail) * Int64(volume.f_frsize) : nil
        return StorageFootprint(databaseBytes: bytes, freeBytes: free)
    }
}

/// `close(2)`, out of reach of `SQLiteStore.close()`.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
