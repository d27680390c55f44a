import ArgumentParser
import Foundation
import Logging
import RegistrarCore
import RegistrarPostgres

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the database schema up to date, then exit.",
        discussion: """
            PostgreSQL: applies the missing schema steps under an advisory lock, so instances started together take \
            turns; serve never migrates a PostgreSQL database itself. SQLite: the file is migrated whenever it is \
            opened; this opens it.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let config = try global.loadConfig()
        guard let url = try Storage.postgresURL(config) else {
            _ = try await Storage.open(config)
            print("database \(config.database) is up to date")
            return
        }
        let logger = Logger(label: "registrar.migrate", factory: { _ in SwiftLogNoOpLogHandler() })
        let (from, to): (Int, Int)
        do {
            (from, to) = try await PostgresStore.migrate(url, logger: logger)
        } catch {
            throw CLIError("database \(url): \(String(reflecting: error))")
        }
        print(from == to ? "database \(url) is up to date (schema version \(to))"
                         : "database \(url) migrated from schema version \(from) to \(to)")
    }
}
