import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: DeliveryLog, DeliveryRecorder {
    @discardableResult
    public func recordDelivery(_ delivery: NewDelivery) async throws -> Int64 {
        try await transaction { connection, now in
            try await self.insertDelivery(delivery, receivedAt: now, on: connection)
        }
    }

    /// Writes a delivery inside the caller's transaction: what the ledger keeps of it (`NewDelivery.stored`), never
    /// the raw bytes of a rejected one.
    func insertDelivery(_ delivery: NewDelivery, receivedAt: Date, jobIDs: [Int64] = [],
                        on connection: PostgresConnection) async throws -> Int64 {
        let stored = delivery.stored
        let headers = JSONText.encode(strings: delivery.storedHeaders)
        let id = try await connection.query("""
            INSERT INTO deliveries (source, channel, received_at, headers, body, body_size, body_sha256, verdict, http_status,
                                    reason, job_ids)
            VALUES (\(delivery.source), \(delivery.channel), \(receivedAt), \(headers)::jsonb, \(Data(stored.bytes)),
                    \(Int32(clamping: stored.size)), \(stored.sha256), \(delivery.verdict), \(Int32(clamping: delivery.httpStatus)),
                    \(delivery.reason), \(jobIDs))
            RETURNING id
            """, logger: logger).first(Int64.self)
        guard let id else { throw StoreError.corrupt("a delivery was inserted without an id") }
        return id
    }

    public func deliveries(_ filter: DeliveryFilter) async throws -> [Delivery] {
        try await read { connection, _ in
            var q = QueryBuilder()
            var conditions: [String] = []
            if let source = filter.source {
                let s = q.bind(source)
                conditions.append("(source = \(s) OR channel = \(s))")
            }
            if let verdict = filter.verdict { conditions.append("verdict = \(q.bind(verdict))") }
            if let before = filter.beforeID { conditions.append("id < \(q.bind(before))") }
            if let window = filter.window {
                conditions.append("id > (SELECT coalesce(max(id), 0) FROM deliveries) - \(q.bind(Int64(window)))")
            }
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let limit = q.bind(Int64(max(0, filter.limit)))
            return try await connection.query(
                q.query("SELECT \(Columns.delivery) FROM deliveries\(whereClause) ORDER BY id DESC LIMIT \(limit)"),
                logger: self.logger).all(Delivery.init(row:))
        }
    }

    public func delivery(id: Int64) async throws -> Delivery? {
        try await read { connection, _ in
            try await connection.query("SELECT \(unescaped: Columns.delivery) FROM deliveries WHERE id = \(id)",
                                       logger: self.logger).all(Delivery.init(row:)).first
        }
    }

    public func pruneDeliveries(olderThan retention: Duration, rejectedOlderThan rejectedRetention: Duration, limit: Int)
        async throws -> Int {
        do {
            return try await pruneDeliveryBatch(olderThan: retention, rejectedOlderThan: rejectedRetention, limit: limit)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            // A job referring to one of them committed after this batch looked: it stays, and the next round
            // (which sees the job) prunes the rest.
            return 0
        }
    }

    private func pruneDeliveryBatch(olderThan retention: Duration, rejectedOlderThan rejectedRetention: Duration, limit: Int)
        async throws -> Int {
        try await transaction { connection, now in
            let cutoff = now.addingTimeInterval(-retention.seconds)
            let rejectedCutoff = now.addingTimeInterval(-rejectedRetention.seconds)
            // A job still in the table keeps its delivery (its detail shows it), and so does a payment; SKIP LOCKED leaves rows another
            // instance is pruning to it.
            return try await connection.query("""
                WITH gone AS (
                    DELETE FROM deliveries WHERE id IN (
                        SELECT d.id FROM deliveries d
                        WHERE (d.received_at < \(cutoff) OR (d.verdict = 'rejected' AND d.received_at < \(rejectedCutoff)))
                          AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.delivery_id = d.id)
                          AND NOT EXISTS (SELECT 1 FROM payments WHERE payments.delivery_id = d.id)
                        LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                    RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: self.logger).first(Int64.self).map(Int.init) ?? 0
        }
    }
}
