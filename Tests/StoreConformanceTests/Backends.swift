import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

/// A backend the conformance suite runs against: how to open a fresh, empty store of it. Adding a backend to
/// the suite is adding one of these to `Backends.all`.
struct StoreBackend: Sendable, CustomTestStringConvertible {
    let name: String
    let open: @Sendable (_ clock: any WallClock, _ options: StoreOptions) async throws -> OpenedStore
    var testDescription: String { name }
}

/// A fresh store, and how to dispose of it when the test is done.
struct OpenedStore: Sendable {
    let store: any RegistrarStorage
    let close: @Sendable () -> Void
}

enum Backends {
    static let all: [StoreBackend] = [sqlite, postgres]

    static let sqlite = StoreBackend(name: "SQLite") { clock, options in
        let dir = try TemporaryDirectory(prefix: "registrar-conformance")
        let store = try SQLiteStore(path: dir.file("registrar.sqlite"), options: options, clock: clock,
                                    random: FixedRandom(value: 0.5))
        return OpenedStore(store: store) {
            try? store.close()
            _ = dir // Kept until the store is closed, then removed with it.
        }
    }
}

extension Backends {
    /// A new database on the server `REGISTRAR_TEST_POSTGRES` names (`scripts/with-postgres` starts one), migrated,
    /// for each test. Without that variable the test fails saying so: the suite is not done until it passes here.
    static let postgres = StoreBackend(name: "PostgreSQL") { clock, options in
        await postgresSlots.acquire()
        do {
            let url = try await freshPostgresDatabase()
            _ = try await PostgresStore.migrate(url)
            // The system clock means the database's own; any other clock is a test's, which moves time itself.
            let store = try await PostgresStore.open(url, options: options, clock: clock is SystemWallClock ? nil : clock,
                                                     random: FixedRandom(value: 0.5), maximumConnections: 6)
            return OpenedStore(store: store) {
                store.close()
                Task { await postgresSlots.release() }
            }
        } catch {
            await postgresSlots.release()
            throw error
        }
    }

    /// At most four PostgreSQL-backed tests at once: each makes a database and keeps a pool, and all of them at once
    /// left the two cores to PostgreSQL while timing-sensitive tests ran beside them.
    static let postgresSlots = TestSlots(4)

    /// A new, empty database on the server `REGISTRAR_TEST_POSTGRES` names.
    static func freshPostgresDatabase() async throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment["REGISTRAR_TEST_POSTGRES"] else {
            throw PostgresURL.Invalid("REGISTRAR_TEST_POSTGRES is not set: run the tests as `scripts/with-postgres swift test`")
        }
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return try await PostgresAdmin.createDatabase(name, on: try PostgresURL.parse(text))
    }

    /// Attempts, lease and backoff as the suites set them, jitter in the middle of its range.
    static func options(maxAttempts: Int, lease: Duration, base: Duration, cap: Duration) -> StoreOptions {
        StoreOptions(maxAttempts: maxAttempts, lease: lease, retry: RetryRule(backoff: BackoffPolicy(base: base, cap: cap, jitter: 0.1)))
    }
}

extension StoreBackend {
    /// Runs `body` with a fresh store of this backend: jitter fixed at the middle, the given attempts, lease and
    /// backoff.
    func with(clock: any WallClock = SystemWallClock(), maxAttempts: Int = 5, lease: Duration = .seconds(30),
              base: Duration = .seconds(2), cap: Duration = .seconds(60),
              _ body: (any RegistrarStorage) async throws -> Void) async throws {
        let opened = try await open(clock, Backends.options(maxAttempts: maxAttempts, lease: lease, base: base, cap: cap))
        defer { opened.close() }
        try await body(opened.store)
    }
}

/// A job with a payload nobody reads, for the queue's own tests.
func job(_ key: String, kind: JobKind = .enroll, serial: String? = nil, payload: String = "{}") -> NewJob {
    NewJob(kind: kind, dedupeKey: key, serialKey: serial, payload: payload, source: "test")
}

/// Runs each claimed job to the given outcome until nothing is due.
func runAll(_ store: any JobQueue, _ outcome: (ClaimedJob) -> HandlerOutcome) async throws {
    while true {
        let claimed = try await store.claim(owner: "w", limit: 10)
        if claimed.isEmpty { return }
        for job in claimed { try await store.finish(job, outcome: outcome(job)) }
    }
}

/// A counting semaphore for tests: at most `count` holders at once, the rest wait in turn.
actor TestSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
