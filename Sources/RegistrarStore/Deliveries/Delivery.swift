import Foundation
import GRDB
import RegistrarCore

/// An inbound delivery as received, before it is stored: the raw bytes and the verdict on them.
public struct NewDelivery: Sendable {
    public var source: String
    public var channel: String?
    /// Only the headers that matter to an operator replaying or auditing (topic, ids, signature presence).
    public var headers: [String: String]
    public var body: [UInt8]
    public var verdict: String
    public var httpStatus: Int
    public var reason: String?

    public init(source: String, channel: String? = nil, headers: [String: String] = [:], body: [UInt8],
                verdict: String, httpStatus: Int, reason: String? = nil) {
        self.source = source
        self.channel = channel
        self.headers = headers
        self.body = body
        self.verdict = verdict
        self.httpStatus = httpStatus
        self.reason = reason
    }
}

/// A row of the delivery ledger.
public struct Delivery: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var source: String
    public var channel: String?
    public var receivedAt: Date
    public var headers: [String: String]
    public var body: [UInt8]
    public var verdict: String
    public var httpStatus: Int
    public var reason: String?
    public var jobIDs: [Int64]

    public init(row: Row) throws {
        id = row["id"]
        source = row["source"]
        channel = row["channel"]
        receivedAt = row["received_at"]
        headers = (try? JSONText.decode([String: String].self, from: row["headers"])) ?? [:]
        let data: Data = row["body"]
        body = [UInt8](data)
        verdict = row["verdict"]
        httpStatus = row["http_status"]
        reason = row["reason"]
        jobIDs = (try? JSONText.decode([Int64].self, from: row["job_ids"])) ?? []
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A delivery's columns as stored, encoded ahead of the transaction that writes them: under load the one writer
/// should spend its time writing, not encoding headers or copying a body.
public struct DeliveryRow: Sendable {
    var source: String
    var channel: String?
    var receivedAt: String
    var headers: String
    var body: Data
    public var verdict: String
    var httpStatus: Int
    public var reason: String?

    public init(_ delivery: NewDelivery, receivedAt: Date) {
        source = delivery.source
        channel = delivery.channel
        self.receivedAt = StoredDate.text(receivedAt)
        headers = JSONText.encode(strings: delivery.headers)
        body = Data(delivery.body)
        verdict = delivery.verdict
        httpStatus = delivery.httpStatus
        reason = delivery.reason
    }
}

/// The raw inbound ledger: every delivery, accepted or not, as received.
public enum DeliveryLedger {
    /// Records a delivery inside the caller's transaction, so it commits together with the jobs it creates.
    @discardableResult
    public static func record(_ delivery: NewDelivery, jobIDs: [Int64] = [], at now: Date, in db: Database) throws -> Int64 {
        try record(DeliveryRow(delivery, receivedAt: now), jobIDs: jobIDs, in: db)
    }

    @discardableResult
    public static func record(_ row: DeliveryRow, jobIDs: [Int64] = [], in db: Database) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO deliveries (source, channel, received_at, headers, body, verdict, http_status, reason, job_ids)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [row.source, row.channel, row.receivedAt, row.headers, row.body, row.verdict,
                                     row.httpStatus, row.reason, JSONText.encode(ids: jobIDs)])
        return db.lastInsertedRowID
    }

    public static func setJobs(_ jobIDs: [Int64], ofDelivery id: Int64, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE deliveries SET job_ids = ? WHERE id = ?")
            .execute(arguments: [JSONText.encode(ids: jobIDs), id])
    }
}

public struct DeliveryFilter: Sendable {
    public var source: String?
    public var verdict: String?
    public var limit = 50
    public init(source: String? = nil, verdict: String? = nil, limit: Int = 50) {
        self.source = source
        self.verdict = verdict
        self.limit = limit
    }
}

extension RegistrarStore {
    /// Records a delivery that creates no jobs (rejected, ignored, ping) in its own group-committed write.
    @discardableResult
    public func recordDelivery(_ delivery: NewDelivery) async throws -> Int64 {
        let now = clock.now()
        return try await write { db in try DeliveryLedger.record(delivery, at: now, in: db) }
    }

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
            return try Delivery.fetchAll(db, sql: "SELECT * FROM deliveries \(whereClause) ORDER BY id DESC LIMIT ?",
                                         arguments: arguments)
        }
    }

    public func delivery(id: Int64) async throws -> Delivery? {
        try await read { db in try Delivery.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id]) }
    }
}
