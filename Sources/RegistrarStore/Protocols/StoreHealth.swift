/// What `/readyz` and `/metrics` ask of the store.
public protocol StoreHealth: Sendable {
    /// Commits a small write through the same path as intake: proves the database takes writes right now (not a
    /// read-only or full disk, not a stuck writer). It may not return promptly when the disk is stuck, and it
    /// cannot be cancelled once begun: callers bound the wait themselves.
    func probeWritable() async throws
    /// How many write transactions carried how many writes since start.
    var writeStats: WriteStats { get }
    /// The database's size on disk and the free space left where it grows (for the gauge and the low-disk
    /// warning). A backend on a server it does not share a disk with gives nil for the free space.
    func footprint() async throws -> StorageFootprint
}

public struct StorageFootprint: Sendable, Equatable {
    /// Bytes the database occupies (for SQLite: the file, its WAL and its shared-memory index).
    public var databaseBytes: Int64
    /// Bytes free to an unprivileged writer on the database's volume; nil when unknown.
    public var freeBytes: Int64?

    public init(databaseBytes: Int64, freeBytes: Int64?) {
        self.databaseBytes = databaseBytes
        self.freeBytes = freeBytes
    }
}

public struct WriteStats: Sendable, Equatable {
    /// Committed write transactions.
    public var transactions: Int
    /// Caller writes carried by those transactions.
    public var writes: Int
    /// The most callers one commit served.
    public var largestBatch: Int

    public init(transactions: Int = 0, writes: Int = 0, largestBatch: Int = 0) {
        self.transactions = transactions
        self.writes = writes
        self.largestBatch = largestBatch
    }
}
