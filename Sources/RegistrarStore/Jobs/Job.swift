import Foundation
import RegistrarCore

/// A job as the store holds it.
public struct Job: Sendable, Equatable {
    public var id: Int64
    public var kind: JobKind
    public var state: JobState
    public var dedupeKey: String
    public var serialKey: String?
    /// JSON text; handlers decode the shape their kind expects.
    public var payload: String
    /// Attempts started, the one running now included.
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

    public init(id: Int64, kind: JobKind, state: JobState, dedupeKey: String, serialKey: String?, payload: String,
                attempts: Int, maxAttempts: Int, runAt: Date, leaseOwner: String?, leaseExpiresAt: Date?,
                lastError: String?, lastHTTPStatus: Int?, result: String?, source: String, deliveryID: Int64?,
                createdAt: Date, updatedAt: Date, finishedAt: Date?) {
        self.id = id
        self.kind = kind
        self.state = state
        self.dedupeKey = dedupeKey
        self.serialKey = serialKey
        self.payload = payload
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.lastError = lastError
        self.lastHTTPStatus = lastHTTPStatus
        self.result = result
        self.source = source
        self.deliveryID = deliveryID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }

    public func decodePayload<P: Decodable>(_ type: P.Type) throws -> P {
        try JSONText.decode(type, from: payload)
    }
}

/// One try at running a job.
public struct JobAttempt: Sendable, Equatable {
    public var id: Int64
    public var jobID: Int64
    public var attempt: Int
    public var worker: String
    public var startedAt: Date
    public var durationMilliseconds: Int?
    /// running, succeeded, transient, permanent, lease_expired, released.
    public var outcome: String
    public var httpStatus: Int?
    public var error: String?

    public init(id: Int64, jobID: Int64, attempt: Int, worker: String, startedAt: Date, durationMilliseconds: Int?,
                outcome: String, httpStatus: Int?, error: String?) {
        self.id = id
        self.jobID = jobID
        self.attempt = attempt
        self.worker = worker
        self.startedAt = startedAt
        self.durationMilliseconds = durationMilliseconds
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.error = error
    }
}

/// A job handed to a worker: the job as claimed plus what proves the claim is still this worker's.
public struct ClaimedJob: Sendable {
    public var job: Job
    public var attemptID: Int64
    public var owner: String
    public var startedAt: Date

    public init(job: Job, attemptID: Int64, owner: String, startedAt: Date) {
        self.job = job
        self.attemptID = attemptID
        self.owner = owner
        self.startedAt = startedAt
    }
}

/// A job as an enqueue found it: new, or already there under the same dedupe key.
public struct EnqueuedJob: Sendable, Equatable {
    public var id: Int64
    public var dedupeKey: String
    public var created: Bool
    public var state: JobState

    public init(id: Int64, dedupeKey: String, created: Bool, state: JobState) {
        self.id = id
        self.dedupeKey = dedupeKey
        self.created = created
        self.state = state
    }
}

public struct EnqueueResult: Sendable {
    public var deliveryID: Int64?
    public var jobs: [EnqueuedJob]

    public init(deliveryID: Int64?, jobs: [EnqueuedJob]) {
        self.deliveryID = deliveryID
        self.jobs = jobs
    }
}
