import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore

/// Opens the backend the configuration's `database` names. Everything past this point sees only the store's
/// protocols.
enum Storage {
    static func open(_ config: RegistrarConfig, groupCommit: Bool = true,
                     onCommit: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> any RegistrarStorage {
        if let url = try postgresURL(config) {
            do {
                return try await PostgresStore.open(url, options: StoreOptions(jobs: config.jobs))
            } catch {
                throw CLIError("database \(url): \(error)")
            }
        }
        do {
            return try SQLiteStore(path: config.database, options: StoreOptions(jobs: config.jobs), groupCommit: groupCommit,
                                   onCommit: onCommit)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// The PostgreSQL database the configuration names, with its password from the URL, `database_password_file`
    /// or `PGPASSWORD`, in that order; nil for an SQLite file.
    static func postgresURL(_ config: RegistrarConfig) throws -> PostgresURL? {
        guard PostgresURL.isPostgres(config.database) else { return nil }
        var url: PostgresURL
        do { url = try PostgresURL.parse(config.database) } catch { throw CLIError("database: \(error)") }
        if url.password == nil {
            if let file = config.databasePasswordFile {
                do {
                    url.password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
                } catch {
                    throw CLIError("database_password_file: cannot read \(file): \(error.localizedDescription)")
                }
            } else if let password = ProcessInfo.processInfo.environment["PGPASSWORD"] {
                url.password = password
            }
        }
        return url
    }
}
