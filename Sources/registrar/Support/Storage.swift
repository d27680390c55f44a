import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore

/// Opens the backend the configuration's `database` names. Everything past this point sees only the store's
/// protocols.
enum Storage {
    static func open(_ config: RegistrarConfig, groupCommit: Bool = true,
                     onCommit: @escaping @Sendable (Int) -> Void = { _ in }) throws -> any RegistrarStorage {
        if config.database.hasPrefix("postgres://") || config.database.hasPrefix("postgresql://") {
            throw CLIError("database: PostgreSQL is not supported by this version of registrar; give the path of an SQLite file")
        }
        do {
            return try SQLiteStore(path: config.database, options: StoreOptions(jobs: config.jobs), groupCommit: groupCommit,
                                   onCommit: onCommit)
        } catch {
            throw CLIError("\(error)")
        }
    }
}
