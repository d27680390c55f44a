import Foundation

/// Where a job goes after an attempt. Pure, so every branch is tested without a database.
public enum NextStep: Sendable, Equatable {
    case succeed(detail: String?)
    case retry(at: Date, reason: String)
    case fail(reason: String)
}

public struct RetryRule: Sendable {
    public var backoff: BackoffPolicy
    public init(backoff: BackoffPolicy) { self.backoff = backoff }

    /// - Parameters:
    ///   - attempts: tries made so far, this one included.
    ///   - maxAttempts: the job's limit; a transient outcome on the last try fails the job.
    public func nextStep(for outcome: HandlerOutcome, attempts: Int, maxAttempts: Int, now: Date,
                         unitRandom: Double) -> NextStep {
        switch outcome {
        case .success(let detail, _):
            return .succeed(detail: detail)
        case .permanent(let reason, _):
            return .fail(reason: reason)
        case .transient(let reason, let retryAfter, _):
            if attempts >= maxAttempts {
                return .fail(reason: "attempts exhausted (\(attempts) of \(maxAttempts)): \(reason)")
            }
            // The server's Retry-After is a floor it asked for: never retry sooner than that.
            let delay = retryAfter ?? backoff.delay(afterAttempt: attempts, unitRandom: unitRandom)
            return .retry(at: now.addingTimeInterval(delay.seconds), reason: reason)
        }
    }
}
