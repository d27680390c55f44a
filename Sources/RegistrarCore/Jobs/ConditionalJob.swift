/// A job to add only when the job it undoes exists (live or pruned): an unenroll for a line that was enrolled.
public struct ConditionalJob: Sendable, Equatable {
    public var job: NewJob
    /// The dedupe key of the job that must exist first.
    public var requiresDedupeKey: String

    public init(_ job: NewJob, requiresDedupeKey: String) {
        self.job = job
        self.requiresDedupeKey = requiresDedupeKey
    }
}
