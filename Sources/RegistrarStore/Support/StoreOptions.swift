import RegistrarCore

/// How the store runs jobs, whatever the backend.
public struct StoreOptions: Sendable {
    /// For jobs enqueued without their own.
    public var maxAttempts: Int
    /// How long a claim holds a job before crash rescue may take it back.
    public var lease: Duration
    public var retry: RetryRule

    public init(maxAttempts: Int, lease: Duration, retry: RetryRule) {
        self.maxAttempts = maxAttempts
        self.lease = lease
        self.retry = retry
    }

    public init(jobs: JobsConfig) {
        self.init(maxAttempts: jobs.maxAttempts, lease: .milliseconds(Int64(jobs.leaseSeconds * 1000)),
                  retry: RetryRule(backoff: jobs.backoff))
    }
}
