import ArgumentParser
import Foundation
import Logging
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move the database: copy the configured SQLite database into an empty PostgreSQL one.",
        subcommands: [Copy.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every table into an empty PostgreSQL database, then check each table's rows and checksum.",
            discussion: """
                Stop serve first: rows written during the copy would be missed. The target is migrated first, and \
                must hold no rows. Ids are kept. Each table is then read back from both databases in key order and \
                compared: count and SHA-256 of its values (instants to the millisecond, JSON with sorted keys).
                """
        )

        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("to"), help: "The PostgreSQL database: postgres://user@host:port/name?sslmode=… (password: PGPASSWORD).")
        var target: String
        @Option(help: "Rows per page read and written.") var batch = 2000

        func validate() throws {
            guard (1...50_000).contains(batch) else { throw ValidationError("--batch must be 1…50,000") }
        }

        func run() async throws {
            let config = try global.loadConfig()
            guard !PostgresURL.isPostgres(config.database) else {
                throw CLIError("store copy reads an SQLite database; the configured one is PostgreSQL already")
            }
            var url: PostgresURL
            do { url = try PostgresURL.parse(target) } catch { throw CLIError("--to: \(error)") }
            if url.password == nil { url.password = ProcessInfo.processInfo.environment["PGPASSWORD"] }
            let source: SQLiteStore
            do {
                source = try SQLiteStore(path: config.database, options: StoreOptions(jobs: config.jobs))
            } catch {
                throw CLIError("\(error)")
            }
            let quiet = Logger(label: "registrar.copy", factory: { _ in SwiftLogNoOpLogHandler() })
            let migrated: (from: Int, to: Int)
            let target: PostgresStore
            do {
                migrated = try await PostgresStore.migrate(url, logger: quiet)
                target = try await PostgresStore.open(url, options: StoreOptions(jobs: config.jobs), logger: quiet)
            } catch {
                throw CLIError("database \(url): \(error)")
            }
            defer { target.close() }
            if migrated.from != migrated.to { print("\(url): schema created (version \(migrated.to))") }
            if let table = try await target.firstTableWithRows() {
                throw CLIError("\(url) is not empty (\(table) holds rows): store copy only fills an empty database")
            }
            var results: [(table: String, source: TableChecksum, target: TableChecksum)] = []
            for table in CopiedTable.all {
                let kinds = try await target.copyKinds(table)
                var after: [CopiedValue]?
                while true {
                    let page = try await source.copyRows(table, after: after, limit: batch)
                    guard !page.rows.isEmpty else { break }
                    if let missing = page.columns.first(where: { kinds[$0] == nil }) {
                        throw CLIError("\(table.name).\(missing) has no column in \(url)")
                    }
                    try await target.copyIn(table, page, kinds: kinds)
                    after = Self.key(of: page.rows.last!, table: table, columns: page.columns)
                    if page.rows.count < batch { break }
                }
            }
            try await target.finishCopy(lastIDs: try await source.copySequences())
            // Both read again from the start, after the copy: a row written to the source meanwhile (serve left
            // running) shows as a difference instead of going missing unseen.
            for table in CopiedTable.all {
                let kinds = try await target.copyKinds(table)
                let (read, columns) = try await Self.checksum(table, batch: batch, kinds: kinds) { after in
                    try await source.copyRows(table, after: after, limit: batch)
                }
                let (copied, _) = try await Self.checksum(table, batch: batch, kinds: kinds) { after in
                    try await target.copyRows(table, after: after, limit: batch, kinds: kinds, columns: columns)
                }
                results.append((table.name, read, copied))
            }
            var mismatched: [String] = []
            for result in results {
                let same = result.source == result.target
                if !same { mismatched.append(result.table) }
                print("\(result.table.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(result.source.rows).leftPadded(9)) rows  "
                      + "sha256 \(result.source.digest.prefix(16))  " + (same ? "same" : "DIFFERS: \(result.target)"))
            }
            guard mismatched.isEmpty else {
                throw CLIError("the copy differs from the source in \(mismatched.joined(separator: ", ")): do not use \(url)")
            }
            print("copied \(results.reduce(0) { $0 + $1.source.rows }) rows of \(results.count) tables into \(url); every table checked")
        }

        private static func key(of row: [CopiedValue], table: CopiedTable, columns: [String]) -> [CopiedValue] {
            table.key.compactMap { key in columns.firstIndex(of: key).map { row[$0] } }
        }

        /// A table's checksum from one backend, page by page in key order; and its columns, in the source's order.
        private static func checksum(_ table: CopiedTable, batch: Int, kinds: [String: CopiedKind],
                                     page read: ([CopiedValue]?) async throws -> CopiedRows) async throws -> (TableChecksum, [String]) {
            var checksum = TableChecksum()
            var after: [CopiedValue]?
            var columns: [String] = []
            while true {
                let page = try await read(after)
                columns = page.columns
                let columnKinds = page.columns.map { kinds[$0] ?? .text }
                for row in page.rows { checksum.add(row, kinds: columnKinds) }
                guard page.rows.count == batch, let last = page.rows.last else { return (checksum, columns) }
                after = key(of: last, table: table, columns: page.columns)
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
