import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarStore

/// Where a store benchmark keeps its table: a SQLite file in the run's folder, or a new PostgreSQL database used
/// by one or two store instances (two connection pools, as two `serve` processes have).
enum BenchBackend: Sendable {
    case sqlite
    case postgres(server: PostgresURL, instances: Int)

    var instances: Int {
        switch self {
        case .sqlite: 1
        case .postgres(_, let instances): instances
        }
    }

    /// The column or row heading the figures go under.
    var label: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres(_, let instances): instances == 1 ? "PostgreSQL" : "PostgreSQL, \(instances) instances"
        }
    }

    /// Appended to a scenario's name for its JSON file.
    var suffix: String {
        switch self {
        case .sqlite: ""
        case .postgres(_, let instances): instances == 1 ? "-postgres" : "-postgres-x\(instances)"
        }
    }

    /// SQLite, PostgreSQL, and two instances on PostgreSQL: the runs `compare` puts side by side.
    static func all(on server: PostgresURL) -> [BenchBackend] {
        [.sqlite, .postgres(server: server, instances: 1), .postgres(server: server, instances: 2)]
    }

    /// A new database on `server`, migrated: each run measures an empty store, and runs never share one.
    static func newDatabase(_ prefix: String, on server: PostgresURL) async throws -> PostgresURL {
        let url = try await PostgresAdmin.createDatabase("bench_\(prefix)_" + UUID().uuidString.prefix(8).lowercased(), on: server)
        _ = try await PostgresStore.migrate(url)
        return url
    }

    /// `count` store instances on the database at `url`, each with a connection pool of its own (as `serve`
    /// processes have).
    static func instances(_ count: Int, on url: PostgresURL, options: StoreOptions) async throws -> [PostgresStore] {
        var opened: [PostgresStore] = []
        for _ in 0..<count { opened.append(try await PostgresStore.open(url, options: options)) }
        return opened
    }
}
