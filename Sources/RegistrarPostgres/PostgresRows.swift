import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

// The store's values read from PostgreSQL rows by column name, and the column lists that produce them.

enum Columns {
    /// A job's columns, its payload as the text handlers decode.
    static let job = """
        id, kind, state, dedupe_key, serial_key, payload::text AS payload, attempts, max_attempts, run_at, lease_owner,
        lease_expires_at, last_error, last_http_status, result, source, delivery_id, created_at, updated_at, finished_at
        """
    static let delivery = """
        id, source, channel, received_at, headers::text AS headers, body, body_size, body_sha256, verdict, http_status,
        reason, job_ids
        """
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self, context: .default)
    }
}

extension Job {
    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        let id: Int64 = try r.value("id")
        let stateText: String = try r.value("state")
        guard let state = JobState(rawValue: stateText) else {
            throw StoreError.corrupt("job \(id) has unknown state \"\(stateText)\"")
        }
        self.init(id: id, kind: JobKind(rawValue: try r.value("kind")), state: state, dedupeKey: try r.value("dedupe_key"),
                  serialKey: try r.value("serial_key"), payload: try r.value("payload"),
                  attempts: try r.value("attempts", as: Int32.self).int, maxAttempts: try r.value("max_attempts", as: Int32.self).int,
                  runAt: try r.value("run_at"), leaseOwner: try r.value("lease_owner"),
                  leaseExpiresAt: try r.value("lease_expires_at"), lastError: try r.value("last_error"),
                  lastHTTPStatus: try r.value("last_http_status", as: Int32?.self).map(Int.init), result: try r.value("result"),
                  source: try r.value("source"), deliveryID: try r.value("delivery_id"), createdAt: try r.value("created_at"),
                  updatedAt: try r.value("updated_at"), finishedAt: try r.value("finished_at"))
    }
}

extension JobAttempt {
    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        self.init(id: try r.value("id"), jobID: try r.value("job_id"), attempt: try r.value("attempt", as: Int32.self).int,
                  worker: try r.value("worker"), startedAt: try r.value("started_at"),
                  durationMilliseconds: try r.value("duration_ms", as: Int32?.self).map(Int.init),
                  outcome: try r.value("outcome"), httpStatus: try r.value("http_status", as: Int32?.self).map(Int.init),
                  error: try r.value("error"))
    }
}

extension OperatorAction {
    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        self.init(id: try r.value("id"), at: try r.value("at"), actor: try r.value("actor"), action: try r.value("action"),
                  jobID: try r.value("job_id"), detail: try r.value("detail"))
    }
}

extension Delivery {
    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        let headers: String = try r.value("headers")
        let body: Data = try r.value("body")
        self.init(id: try r.value("id"), source: try r.value("source"), channel: try r.value("channel"),
                  receivedAt: try r.value("received_at"),
                  headers: (try? JSONText.decode([String: String].self, from: headers)) ?? [:], body: [UInt8](body),
                  bodySize: try r.value("body_size", as: Int32.self).int, bodySHA256: try r.value("body_sha256"),
                  verdict: try r.value("verdict"), httpStatus: try r.value("http_status", as: Int32.self).int,
                  reason: try r.value("reason"), jobIDs: try r.value("job_ids"))
    }
}

extension Int32 {
    var int: Int { Int(self) }
}

extension PostgresRowSequence {
    /// Every row, made into values.
    func all<T>(_ make: (PostgresRow) throws -> T) async throws -> [T] {
        var values: [T] = []
        for try await row in self { values.append(try make(row)) }
        return values
    }

    /// The first column of the first row, if any.
    func first<T: PostgresDecodable & Sendable>(_ type: T.Type) async throws -> T? {
        for try await value in decode(T.self) { return value }
        return nil
    }
}

/// A query written in pieces: conditions appended with their values as numbered parameters.
struct QueryBuilder {
    private(set) var binds = PostgresBindings()
    private var count = 0

    /// The parameter placeholder for `value`.
    mutating func bind<T: PostgresDynamicTypeEncodable>(_ value: T) -> String {
        binds.append(value)
        count += 1
        return "$\(count)"
    }

    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
