import GRDB
import RegistrarStore
import Synchronization

/// The one writer of this process. Concurrent callers hand it their work; it runs everything that is waiting
/// in a single `BEGIN IMMEDIATE … COMMIT` and resumes each caller only after that commit is on disk. One
/// caller's error never undoes another's work: if any caller's work throws, the batch is rolled back and run
/// again with each caller in its own savepoint. So work may run twice, and must touch nothing but the database.
///
/// With `synchronous=FULL` every commit costs a flush (~300/s here); batching the waiting callers into one
/// commit is how intake keeps durability and still serves thousands of deliveries a second.
final class GroupCommitWriter: Sendable {
    private struct Pending: Sendable {
        /// Runs the caller's work, in a savepoint of its own if asked; false if it threw.
        let run: @Sendable (Database, _ isolated: Bool) -> Bool
        let complete: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var pending: [Pending] = []
        var draining = false
        var stats = WriteStats()
    }

    private let pool: DatabasePool
    /// Off only to measure what group commit buys (one transaction per caller).
    private let batching: Bool
    private let state = Mutex(State())
    /// Told the size of every committed batch (for metrics).
    private let onCommit: @Sendable (Int) -> Void

    init(pool: DatabasePool, batching: Bool, onCommit: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.pool = pool
        self.batching = batching
        self.onCommit = onCommit
    }

    var stats: WriteStats { state.withLock { $0.stats } }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let pending = Pending(
                run: { db, isolated in
                    do {
                        box.result = .success(isolated ? try Self.isolated(work, in: db) : try work(db))
                        return true
                    } catch {
                        box.result = .failure(error)
                        return false
                    }
                },
                complete: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: box.result ?? .failure(CancellationError()))
                    }
                }
            )
            let startDrain = state.withLock { state -> Bool in
                state.pending.append(pending)
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain {
                Task { await self.drain() }
            }
        }
    }

    /// Runs one caller's work in its own savepoint inside the batch's transaction: on error only its changes
    /// are undone. GRDB's `inSavepoint` would do the same but compiles its two statements on every call.
    private static func isolated<T>(_ work: (Database) throws -> T, in db: Database) throws -> T {
        try db.cachedStatement(sql: "SAVEPOINT registrar_caller").execute()
        do {
            let value = try work(db)
            try db.cachedStatement(sql: "RELEASE SAVEPOINT registrar_caller").execute()
            return value
        } catch {
            // If the rollback fails too, the transaction itself is gone: the batch's COMMIT fails and tells
            // every caller, so the first error is the one worth reporting here.
            try? db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT registrar_caller").execute()
            try? db.cachedStatement(sql: "RELEASE SAVEPOINT registrar_caller").execute()
            throw error
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let taken: [Pending]
                if batching || state.pending.count <= 1 {
                    taken = state.pending
                    state.pending = []
                } else {
                    taken = [state.pending.removeFirst()]
                }
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            do {
                try await pool.writeWithoutTransaction { db in
                    // Savepoints cost two statements per caller, and work almost never throws: the batch runs
                    // without them, and again with them only when some work did throw.
                    var threw = false
                    try db.inTransaction(.immediate) {
                        for item in batch where !item.run(db, false) {
                            threw = true
                            break
                        }
                        // A lone caller's error is its own: rolling back undoes exactly its work.
                        return threw ? .rollback : .commit
                    }
                    guard threw, batch.count > 1 else { return }
                    try db.inTransaction(.immediate) {
                        for item in batch { _ = item.run(db, true) }
                        return .commit
                    }
                }
                state.withLock { state in
                    state.stats.transactions += 1
                    state.stats.writes += batch.count
                    state.stats.largestBatch = max(state.stats.largestBatch, batch.count)
                }
                onCommit(batch.count)
                for item in batch { item.complete(nil) }
            } catch {
                for item in batch { item.complete(error) }
            }
        }
    }
}

/// Carries one caller's result from the writer's thread to its continuation. Written on the writer's thread
/// (twice if the batch is run again) and read once after the commit, strictly in that order, so no lock is
/// needed.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
