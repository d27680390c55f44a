/// What an operator's replay or cancel may do to a job in a given state, and the reason given when it may not.
/// Every backend asks these, so a refusal reads the same whatever the database.
public enum OperatorRules {
    /// nil when a job in `state` may be replayed (queued, failed, cancelled), else the refusal.
    public static func replayRefusal(jobID id: Int64, state: JobState) -> String? {
        switch state {
        case .queued, .failed, .cancelled: nil
        case .running: "job \(id) is running now; replay it only if it fails"
        case .succeeded: "job \(id) already succeeded; there is nothing to replay"
        case .superseded:
            "job \(id) is superseded by a later change of the same learner and course; enqueue a new job if it is really wanted"
        }
    }

    /// Only an enroll can be overtaken: by a later unenroll of the same serial key.
    public static func canBeSuperseded(_ kind: JobKind) -> Bool { kind == .enroll }

    /// The states in which a later unenroll overtakes a replayed enroll. A queued or running one counts too:
    /// the replayed enroll would wait for it and then run after it, enrolling the learner the unenroll removed.
    /// A failed or cancelled unenroll does not: its effect never happened, so the enroll may still be wanted.
    public static let supersedingStates: [JobState] = [.queued, .running, .succeeded]

    /// The job's last error when a replay marks it superseded instead of running it.
    public static func supersededError(by laterID: Int64) -> String {
        "superseded by job \(laterID): a later unenroll of the same learner and course is queued, running or done"
    }

    /// nil when a job in `state` may be cancelled (queued, failed), else the refusal.
    public static func cancelRefusal(jobID id: Int64, state: JobState) -> String? {
        switch state {
        case .queued, .failed: nil
        case .running: "job \(id) is running; wait for the attempt to finish (or its lease to expire), then cancel"
        case .succeeded: "job \(id) already succeeded; its effect has happened (enqueue the opposite job to undo it)"
        case .cancelled: "job \(id) is already cancelled"
        case .superseded: "job \(id) is superseded; it will not run"
        }
    }

    public static func unknownJob(_ id: Int64) -> String { "no job \(id)" }
}
