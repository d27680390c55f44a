import Foundation
import GRDB
import RegistrarStore

extension SQLiteStore: DeliveryLog {
    public func deliveries(_ filter: DeliveryFilter) async throws -> [Delivery] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let source = filter.source {
                conditions.append("(source = ? OR channel = ?)")
                arguments += [source, source]
            }
            if let verdict = filter.verdict {
                conditions.append("verdict = ?")
                arguments += [verdict]
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [filter.limit]
            return try DeliveryRecord.fetchAll(db, sql: "SELECT * FROM deliveries \(whereClause) ORDER BY id DESC LIMIT ?",
                                               arguments: arguments).map(\.delivery)
        }
    }

    public func delivery(id: Int64) async throws -> Delivery? {
        try await read { db in
            try DeliveryRecord.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id])?.delivery
        }
    }
}
