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

extension SQLiteStore {
    public func pruneDeliveries(olderThan retention: Duration, rejectedOlderThan rejectedRetention: Duration, limit: Int)
        async throws -> Int {
        let now = clock.now()
        let cutoff = StoredDate.text(now.addingTimeInterval(-retention.seconds))
        let rejectedCutoff = StoredDate.text(now.addingTimeInterval(-rejectedRetention.seconds))
        return try await write { db -> Int in
            let unreferenced = """
                NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.delivery_id = deliveries.id)
                AND NOT EXISTS (SELECT 1 FROM payments WHERE payments.delivery_id = deliveries.id)
                """
            var ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM deliveries INDEXED BY deliveries_rejected
                WHERE verdict = 'rejected' AND received_at < ? AND \(unreferenced) LIMIT ?
                """, arguments: [rejectedCutoff, limit])
            if ids.count < limit {
                ids += try Int64.fetchAll(db, sql: """
                    SELECT id FROM deliveries WHERE received_at < ? AND \(unreferenced) LIMIT ?
                    """, arguments: [cutoff, limit - ids.count])
            }
            guard !ids.isEmpty else { return 0 }
            try db.execute(sql: "DELETE FROM deliveries WHERE id IN (\(Set(ids).map(String.init).joined(separator: ",")))")
            return db.changesCount
        }
    }
}
