import Foundation
import GRDB
import RegistrarCore
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
            var copied = CopiedRows(columns: columns, rows: rows.map { row in
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
            if table.name == "deliveries" { Self.maskOldBodies(&copied) }
            return copied
        }
    }

    /// Deliveries stored before v9 kept no size and may hold a card number this backend masks as it reads them:
    /// they are copied as it shows them, masked, with their size.
    private static func maskOldBodies(_ page: inout CopiedRows) {
        guard let size = page.columns.firstIndex(of: "body_size"), let body = page.columns.firstIndex(of: "body") else { return }
        for index in page.rows.indices where page.rows[index][size] == .null {
            let bytes: [UInt8] = switch page.rows[index][body] {
            case .blob(let bytes): bytes
            case .text(let text): Array(text.utf8)
            default: []
            }
            let masked = CardNumberMasking.masked(bytes)
            page.rows[index][body] = .blob(masked)
            page.rows[index][size] = .integer(Int64(masked.count))
        }
    }

    /// The last id each AUTOINCREMENT table gave, pruned rows' included: the copy's sequences start after them.
    public func copySequences() async throws -> [String: Int64] {
        try await read { db in
            var sequences: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, seq FROM sqlite_sequence") { sequences[row["name"]] = row["seq"] }
            return sequences
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
