import Foundation

/// A job with every attempt and every operator action on it, for `jobs show` and the API.
public struct JobDetail: Sendable {
    public var job: Job
    public var attempts: [JobAttempt]
    public var actions: [OperatorAction]

    public init(job: Job, attempts: [JobAttempt], actions: [OperatorAction]) {
        self.job = job
        self.attempts = attempts
        self.actions = actions
    }
}

/// Who replayed, cancelled or reviewed what, and when: the audit trail.
public struct OperatorAction: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var jobID: Int64?
    public var detail: String?

    public init(id: Int64, at: Date, actor: String, action: String, jobID: Int64?, detail: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.jobID = jobID
        self.detail = detail
    }
}
