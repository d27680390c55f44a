import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

/// The PostgreSQL side of `registrar store copy`: rows written as they came from SQLite, converted by what each
/// column holds here, and read back in key order to be compared.
extension PostgresStore {
    /// What each column of `table` holds, from the catalog.
    public func copyKinds(_ table: CopiedTable) async throws -> [String: CopiedKind] {
        try await snapshot { tx in
            var kinds: [String: CopiedKind] = [:]
            for r in try await tx.rows("""
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(table.name)
                """) {
                let type: String = try r.value("data_type")
                kinds[try r.value("column_name")] = switch type {
                case "bigint", "integer", "smallint": .integer
                case "boolean": .boolean
                case "timestamp with time zone": .timestamp
                case "jsonb", "json": .json
                case "ARRAY": .integerArray
                case "bytea": .bytes
                default: .text
                }
            }
            return kinds
        }
    }

    /// The first of Registrar's tables that holds a row, if any: a copy goes only into an empty database.
    public func firstTableWithRows() async throws -> String? {
        try await snapshot { tx in
            for table in CopiedTable.all where try await tx.exists("SELECT 1 FROM \(unescaped: table.name) LIMIT 1") {
                return table.name
            }
            return nil
        }
    }

    /// Writes rows read from another backend, in one transaction. Ids are kept as they were.
    public func copyIn(_ table: CopiedTable, _ page: CopiedRows, kinds: [String: CopiedKind]) async throws {
        guard !page.rows.isEmpty else { return }
        let columnKinds = try page.columns.map { column -> CopiedKind in
            guard let kind = kinds[column] else {
                throw StoreError.corrupt("\(table.name).\(column) has no column of that name in PostgreSQL")
            }
            return kind
        }
        // PostgreSQL takes at most 65,535 parameters in one statement.
        let perStatement = max(1, 30_000 / max(1, page.columns.count))
        try await transaction { connection, _ in
            var start = 0
            while start < page.rows.count {
                let chunk = page.rows[start..<min(page.rows.count, start + perStatement)]
                var binds = PostgresBindings()
                var number = 0
                var tuples: [String] = []
                for row in chunk {
                    var placeholders: [String] = []
                    for (value, kind) in zip(row, columnKinds) {
                        number += 1
                        try Self.bind(value, as: kind, column: "\(table.name)", into: &binds)
                        placeholders.append("$\(number)::\(Self.cast(kind))")
                    }
                    tuples.append("(" + placeholders.joined(separator: ", ") + ")")
                }
                let columns = page.columns.map { "\"\($0)\"" }.joined(separator: ", ")
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(table.name) (\(columns)) OVERRIDING SYSTEM VALUE VALUES \(tuples.joined(separator: ", "))
                    """, binds: binds), logger: self.logger)
                start += perStatement
            }
        }
    }

    /// Up to `limit` rows of `table` after `after`, in key order (keys compared as bytes, as SQLite does), in the
    /// form `TableChecksum` compares.
    public func copyRows(_ table: CopiedTable, after: [CopiedValue]?, limit: Int, kinds: [String: CopiedKind],
                         columns: [String]) async throws -> CopiedRows {
        try await snapshot { tx in
            var q = QueryBuilder()
            let select = columns.map { column -> String in
                switch kinds[column] {
                case .json: "\"\(column)\"::text AS \"\(column)\""
                case .integerArray: "array_to_json(\"\(column)\")::text AS \"\(column)\""
                default: "\"\(column)\""
                }
            }
            let keys = table.key.map { kinds[$0] == .text ? "\"\($0)\" COLLATE \"C\"" : "\"\($0)\"" }
            var sql = "SELECT \(select.joined(separator: ", ")) FROM \(table.name)"
            if let after {
                let values = try after.map { value -> String in
                    switch value {
                    case .integer(let number): return q.bind(number)
                    case .text(let text): return q.bind(text)
                    default: throw StoreError.corrupt("\(table.name): a key of kind \(value) cannot page a copy")
                    }
                }
                sql += " WHERE (\(keys.joined(separator: ", "))) > (\(values.joined(separator: ", ")))"
            }
            sql += " ORDER BY \(keys.joined(separator: ", ")) LIMIT \(limit)"
            let rows = try await tx.rows(q.query(sql)).map { r in
                try columns.map { column -> CopiedValue in
                    let cell = r[column]
                    if cell.bytes == nil { return .null }
                    switch kinds[column] ?? .text {
                    case .integer: return .integer(try cell.decode(Int64.self))
                    case .boolean: return .integer(try cell.decode(Bool.self) ? 1 : 0)
                    case .timestamp: return .date(try cell.decode(Date.self))
                    case .bytes: return .blob([UInt8](try cell.decode(Data.self)))
                    case .json, .integerArray, .text: return .text(try cell.decode(String.self))
                    }
                }
            }
            return CopiedRows(columns: columns, rows: rows)
        }
    }

    /// After the rows: identity sequences moved past every id the source ever gave (`lastIDs`, which counts rows
    /// since pruned: an id is never given twice, or a pruned job's key would name a new job), and every dedupe key,
    /// live or pruned, in the one table that keeps them unique here.
    public func finishCopy(lastIDs: [String: Int64]) async throws {
        try await transaction { connection, _ in
            for table in CopiedTable.all where table.key == ["id"] {
                let floor = lastIDs[table.name] ?? 0
                try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), greatest(coalesce(max(id), 0), \(floor)) + 1, false)
                    FROM \(table.name)
                    """), logger: self.logger)
            }
            try await connection.query("""
                INSERT INTO dedupe_keys (dedupe_key, job_id)
                SELECT dedupe_key, id FROM jobs UNION ALL SELECT dedupe_key, job_id FROM pruned_jobs
                ON CONFLICT DO NOTHING
                """, logger: self.logger)
        }
    }

    private static func cast(_ kind: CopiedKind) -> String {
        switch kind {
        case .integer: "bigint"
        case .boolean: "boolean"
        case .timestamp: "timestamptz"
        case .json: "jsonb"
        case .integerArray: "bigint[]"
        case .bytes: "bytea"
        case .text: "text"
        }
    }

    private static func bind(_ value: CopiedValue, as kind: CopiedKind, column: String, into binds: inout PostgresBindings) throws {
        func refuse() -> StoreError { .corrupt("\(column) holds \(value), which is not \(kind)") }
        switch (value, kind) {
        case (.null, _): binds.appendNull()
        case (.integer(let number), .integer): binds.append(number)
        case (.text(let text), .integer): guard let number = Int64(text) else { throw refuse() }; binds.append(number)
        case (.real(let number), .integer): binds.append(Int64(number))
        case (.integer(let number), .boolean): binds.append(number != 0)
        case (.date(let date), .timestamp): binds.append(date)
        case (.text(let text), .json): binds.append(text)
        case (.text(let text), .integerArray):
            guard let ids = try? JSONDecoder().decode([Int64].self, from: Data(text.utf8)) else { throw refuse() }
            binds.append(ids)
        case (.blob(let bytes), .bytes): try binds.append(Data(bytes))
        case (.text(let text), .bytes): try binds.append(Data(text.utf8))
        case (.text(let text), .text): binds.append(text)
        case (.integer(let number), .text): binds.append(String(number))
        case (.real(let number), .text): binds.append(String(number))
        case (.date(let date), .text): binds.append(Timestamp.format(date))
        default: throw refuse()
        }
    }
}
