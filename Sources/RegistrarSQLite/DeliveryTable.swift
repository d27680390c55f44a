import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// A delivery's columns as stored, encoded before the transaction that writes them: under load the one writer
/// should spend its time writing, not encoding headers or copying a body.
struct DeliveryRow: Sendable {
    var source: String
    var channel: String?
    var receivedAt: String
    var headers: String
    var body: Data
    var bodySize: Int
    var bodySHA256: String?
    var verdict: String
    var httpStatus: Int
    var reason: String?

    init(_ delivery: NewDelivery, receivedAt: Date) {
        source = delivery.source
        channel = delivery.channel
        self.receivedAt = StoredDate.text(receivedAt)
        headers = JSONText.encode(strings: delivery.storedHeaders)
        let stored = delivery.stored
        body = Data(stored.bytes)
        bodySize = stored.size
        bodySHA256 = stored.sha256
        verdict = delivery.verdict
        httpStatus = delivery.httpStatus
        reason = delivery.reason
    }
}

/// The raw inbound ledger, written inside the caller's transaction so a delivery commits with the jobs it creates.
enum DeliveryTable {
    @discardableResult
    static func record(_ row: DeliveryRow, jobIDs: [Int64] = [], in db: Database) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO deliveries (source, channel, received_at, headers, body, body_size, body_sha256, verdict,
                                    http_status, reason, job_ids)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [row.source, row.channel, row.receivedAt, row.headers, row.body, row.bodySize,
                                     row.bodySHA256, row.verdict, row.httpStatus, row.reason, JSONText.encode(ids: jobIDs)])
        return db.lastInsertedRowID
    }

    static func setJobs(_ jobIDs: [Int64], ofDelivery id: Int64, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE deliveries SET job_ids = ? WHERE id = ?")
            .execute(arguments: [JSONText.encode(ids: jobIDs), id])
    }
}
