import Foundation
import RegistrarCore
import RegistrarStore

/// The JSON shape of a job for `--json` and the admin API: snake_case keys, the payload as JSON.
public struct JobJSON: Encodable, Sendable {
    var id: Int64
    var kind: String
    var state: String
    var dedupe_key: String
    var serial_key: String?
    var payload: JSONValue
    var attempts: Int
    var max_attempts: Int
    var run_at: Date
    var lease_owner: String?
    var lease_expires_at: Date?
    var last_error: String?
    var last_http_status: Int?
    var result: String?
    var source: String
    var delivery_id: Int64?
    var created_at: Date
    var updated_at: Date
    var finished_at: Date?
    var attempt_log: [AttemptJSON]?
    var operator_actions: [ActionJSON]?

    public init(_ job: Job, attempts: [JobAttempt]? = nil, actions: [OperatorAction]? = nil) {
        id = job.id
        kind = job.kind.rawValue
        state = job.state.rawValue
        dedupe_key = job.dedupeKey
        serial_key = job.serialKey
        payload = JSONValue.parse(job.payload) ?? .string(job.payload)
        self.attempts = job.attempts
        max_attempts = job.maxAttempts
        run_at = job.runAt
        lease_owner = job.leaseOwner
        lease_expires_at = job.leaseExpiresAt
        last_error = job.lastError
        last_http_status = job.lastHTTPStatus
        result = job.result
        source = job.source
        delivery_id = job.deliveryID
        created_at = job.createdAt
        updated_at = job.updatedAt
        finished_at = job.finishedAt
        attempt_log = attempts?.map(AttemptJSON.init)
        operator_actions = actions?.map(ActionJSON.init)
    }
}

public struct AttemptJSON: Encodable, Sendable {
    var attempt: Int
    var worker: String
    var started_at: Date
    var duration_ms: Int?
    var outcome: String
    var http_status: Int?
    var error: String?

    init(_ attempt: JobAttempt) {
        self.attempt = attempt.attempt
        worker = attempt.worker
        started_at = attempt.startedAt
        duration_ms = attempt.durationMilliseconds
        outcome = attempt.outcome
        http_status = attempt.httpStatus
        error = attempt.error
    }
}

public struct ActionJSON: Encodable, Sendable {
    var at: Date
    var actor: String
    var action: String
    var detail: String?

    init(_ action: OperatorAction) {
        at = action.at
        actor = action.actor
        self.action = action.action
        detail = action.detail
    }
}

public struct OperationReportJSON: Encodable, Sendable {
    public struct Superseded: Encodable, Sendable { var job_id: Int64; var by_job_id: Int64 }
    public struct Refused: Encodable, Sendable { var job_id: Int64; var reason: String }
    var dry_run: Bool
    var applied: [Int64]
    var superseded: [Superseded]
    var refused: [Refused]

    public init(_ report: OperationReport) {
        dry_run = report.dryRun
        applied = report.applied
        superseded = report.superseded.map { .init(job_id: $0.jobID, by_job_id: $0.byJobID) }
        refused = report.refused.map { .init(job_id: $0.jobID, reason: $0.reason) }
    }
}
