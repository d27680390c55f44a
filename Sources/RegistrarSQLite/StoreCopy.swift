import Foundation
import GRDB
import RegistrarStore

/// The SQLite side of `registrar store copy`: tables read in key order, a page at a time, values as stored.
extension SQLiteStore {
    /// Up to `limit` rows of `table` after `after` (its key's values), in key order. DATETIME columns come as
    /// instants, everything else as SQLite holds it.
    public func copyRows(_ table: CopiedTable, after: [CopiedValue]?, limit: Int) async throws -> CopiedRows {
        try await read { db in
            let declared = try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?)", arguments: [table.name])
            let columns: [String] = declared.map { $0["name"] }
            let dates = Set(declared.filter { ($0["type"] as String).uppercased() == "DATETIME" }.map { $0["name"] as String })
            let keys = table.key.joined(separator: ", ")
            var sql = "SELECT \(columns.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(table.name)"
            var arguments: [DatabaseValueConvertible?] = []
            if let after {
                sql += " WHERE (\(keys)) > (\(after.map { _ in "?" }.joined(separator: ", ")))"
                arguments = after.map(Self.databaseValue)
            }
            sql += " ORDER BY \(keys) LIMIT \(limit)"
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            return CopiedRows(columns: columns, rows: rows.map { row in
                columns.indices.map { index in
                    let value = row[index] as DatabaseValue
                    if dates.contains(columns[index]), let date = Date.fromDatabaseValue(value) { return .date(date) }
                    switch value.storage {
                    case .null: return .null
                    case .int64(let number): return .integer(number)
                    case .double(let number): return .real(number)
                    case .string(let text): return .text(text)
                    case .blob(let data): return .blob([UInt8](data))
                    }
                }
            })
        }
    }

    private static func databaseValue(_ value: CopiedValue) -> DatabaseValueConvertible? {
        switch value {
        case .null: nil
        case .integer(let number): number
        case .real(let number): number
        case .text(let text): text
        case .blob(let bytes): Data(bytes)
        case .date(let date): StoredDate.text(date)
        }
    }
}
