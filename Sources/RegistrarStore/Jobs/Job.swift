import Foundation
import GRDB
import RegistrarCore

/// A row of the `jobs` table.
public struct Job: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var kind: JobKind
    public var state: JobState
    public var dedupeKey: String
    public var serialKey: String?
    public var payload: String
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var lastError: String?
    public var lastHTTPStatus: Int?
    public var result: String?
    public var source: String
    public var deliveryID: Int64?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(row: Row) throws {
        id = row["id"]
        kind = JobKind(rawValue: row["kind"])
        let stateText: String = row["state"]
        guard let state = JobState(rawValue: stateText) else {
            throw StoreError.corrupt("job \(row["id"] as Int64) has unknown state \"\(stateText)\"")
        }
        self.state = state
        dedupeKey = row["dedupe_key"]
        serialKey = row["serial_key"]
        payload = row["payload"]
        attempts = row["attempts"]
        maxAttempts = row["max_attempts"]
        runAt = row["run_at"]
        leaseOwner = row["lease_owner"]
        leaseExpiresAt = row["lease_expires_at"]
        lastError = row["last_error"]
        lastHTTPStatus = row["last_http_status"]
        result = row["result"]
        source = row["source"]
        deliveryID = row["delivery_id"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        finishedAt = row["finished_at"]
    }

    public func decodePayload<P: Decodable>(_ type: P.Type) throws -> P {
        try JSONText.decode(type, from: payload)
    }
}

/// One try at running a job: a row of `job_attempts`.
public struct JobAttempt: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var jobID: Int64
    public var attempt: Int
    public var worker: String
    public var startedAt: Date
    public var durationMilliseconds: Int?
    public var outcome: String
    public var httpStatus: Int?
    public var error: String?

    public init(row: Row) {
        id = row["id"]
        jobID = row["job_id"]
        attempt = row["attempt"]
        worker = row["worker"]
        startedAt = row["started_at"]
        durationMilliseconds = row["duration_ms"]
        outcome = row["outcome"]
        httpStatus = row["http_status"]
        error = row["error"]
    }
}

/// A job handed to a worker: the row as claimed plus what proves the claim is still this worker's.
public struct ClaimedJob: Sendable {
    public var job: Job
    public var attemptID: Int64
    public var owner: String
    public var startedAt: Date
}

public enum StoreError: Error, Sendable, CustomStringConvertible {
    case corrupt(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .corrupt(let message): "database holds something unexpected: \(message)"
        case .notFound(let message): message
        }
    }
}
