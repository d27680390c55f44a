/// What an operator's replay or cancel did, job by job.
public struct OperationReport: Sendable, Equatable {
    public struct Refusal: Sendable, Equatable {
        public var jobID: Int64
        public var reason: String

        public init(jobID: Int64, reason: String) {
            self.jobID = jobID
            self.reason = reason
        }
    }
    public struct Superseded: Sendable, Equatable {
        public var jobID: Int64
        /// The later succeeded unenroll that made running this job wrong.
        public var byJobID: Int64

        public init(jobID: Int64, byJobID: Int64) {
            self.jobID = jobID
            self.byJobID = byJobID
        }
    }
    /// Jobs changed (or, in a dry run, that would be).
    public var applied: [Int64] = []
    public var superseded: [Superseded] = []
    public var refused: [Refusal] = []
    public var dryRun = false

    public init(applied: [Int64] = [], superseded: [Superseded] = [], refused: [Refusal] = [], dryRun: Bool = false) {
        self.applied = applied
        self.superseded = superseded
        self.refused = refused
        self.dryRun = dryRun
    }
}
