import RegistrarCore

/// Where the pool reports finished attempts (metrics); kept as a protocol so the worker does not depend on a
/// metrics backend.
public protocol WorkerObserver: Sendable {
    func attemptFinished(kind: JobKind, outcome: HandlerOutcome, newState: JobState?, duration: Duration)
}

public struct NoWorkerObserver: WorkerObserver {
    public init() {}
    public func attemptFinished(kind: JobKind, outcome: HandlerOutcome, newState: JobState?, duration: Duration) {}
}
