/// What a handler reports after one attempt. The worker turns it into the job's next state.
public enum HandlerOutcome: Sendable, Equatable {
    /// Done. `detail` is kept on the job (for example the id of a new course run).
    case success(detail: String? = nil, httpStatus: Int? = nil)
    /// Worth retrying: a timeout, a 5xx, a 429. `retryAfter` is the server's own wish, honoured over backoff.
    case transient(reason: String, retryAfter: Duration? = nil, httpStatus: Int? = nil)
    /// Retrying cannot help: the server said no for a reason an operator must fix first.
    case permanent(reason: String, httpStatus: Int? = nil)

    public var httpStatus: Int? {
        switch self {
        case .success(_, let status), .transient(_, _, let status), .permanent(_, let status): status
        }
    }

    /// The label recorded on the attempt row and in metrics.
    public var label: String {
        switch self {
        case .success: "succeeded"
        case .transient: "transient"
        case .permanent: "permanent"
        }
    }

    public var message: String? {
        switch self {
        case .success(let detail, _): detail
        case .transient(let reason, _, _), .permanent(let reason, _): reason
        }
    }
}
