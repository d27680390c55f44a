/// The life of a job: `queued` → `running` → one of the terminal states.
public enum JobState: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case queued
    case running
    case succeeded
    /// A permanent error, or every attempt used up. Operators replay these.
    case failed
    case cancelled
    /// A later job for the same learner and course already succeeded, so running this one would undo it.
    case superseded

    public var description: String { rawValue }
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled, .superseded: true
        }
    }
}
