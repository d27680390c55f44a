/// What `/readyz` and `/metrics` ask of the store.
public protocol StoreHealth: Sendable {
    /// Commits a small write through the same path as intake: proves the database takes writes right now (not a
    /// read-only or full disk, not a stuck writer). It may not return promptly when the disk is stuck, and it
    /// cannot be cancelled once begun: callers bound the wait themselves.
    func probeWritable() async throws
    /// How many write transactions carried how many writes since start.
    var writeStats: WriteStats { get }
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
