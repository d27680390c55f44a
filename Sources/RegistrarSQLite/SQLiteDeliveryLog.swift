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
            if let before = filter.beforeID {
                conditions.append("id < ?")
                arguments += [before]
            }
            if let window = filter.window {
                conditions.append("id > (SELECT IFNULL(MAX(id), 0) FROM deliveries) - ?")
                arguments += [window]
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
        // On a reader, so intake never waits for it: which deliveries are past retention and referred to by no job
        // and no payment. jobs.delivery_id has no index (it would cost every intake commit a page), so the jobs
        // that refer to deliveries are read in one pass per batch, not looked up per delivery.
        let (ids, lastJob) = try await read { db -> ([Int64], Int64) in
            let unreferenced = """
                id NOT IN (SELECT delivery_id FROM jobs WHERE delivery_id IS NOT NULL)
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
            // The same snapshot's newest job: a job's delivery never changes, so only later ones need a look again.
            let lastJob = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM jobs") ?? 0
            return (Array(Set(ids)), lastJob)
        }
        guard !ids.isEmpty else { return 0 }
        return try await writeWithoutForeignKeys { db in
            // A job made since the read that refers to one of them keeps it (a range of the primary key, not a scan).
            try db.execute(sql: """
                DELETE FROM deliveries WHERE id IN (\(ids.map(String.init).joined(separator: ",")))
                AND id NOT IN (SELECT delivery_id FROM jobs WHERE id > ? AND delivery_id IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM payments WHERE payments.delivery_id = deliveries.id)
                """, arguments: [lastJob])
            return db.changesCount
        }
    }
}
