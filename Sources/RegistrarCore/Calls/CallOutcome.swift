/// How one HTTP exchange with Open edX (or a store's REST API) ended, classified by one table for every call:
///
/// | answer | class |
/// |---|---|
/// | 2xx | success |
/// | 401 | unauthorized: refresh the token and retry once, then permanent |
/// | 408, 429, 5xx, timeouts, connection errors | transient (429 and 503 carry Retry-After) |
/// | 400, 403, 404, 406 and any other answer | permanent, with the server's message |
///
/// Calls with their own success cases (409 on enrollment_allowed create, "already exists" on rerun) check
/// those first and defer to this table for the rest.
public enum CallOutcome: Sendable, Equatable {
    case success
    case unauthorized(message: String)
    case transient(message: String, retryAfter: Duration?)
    case permanent(message: String)

    /// Classifies an HTTP answer. `body` is the response text; its message is extracted for operators.
    public static func classify(status: Int, body: String, retryAfter: Duration?) -> CallOutcome {
        let message = ServerMessage.extract(status: status, body: body)
        switch status {
        case 200..<300:
            return .success
        case 401:
            return .unauthorized(message: message)
        case 408, 429, 500..<600:
            return .transient(message: message, retryAfter: retryAfter)
        default:
            return .permanent(message: message)
        }
    }

    /// A request that got no HTTP answer (timeout, refused or reset connection, TLS failure) is worth retrying.
    public static func transportFailure(_ description: String) -> CallOutcome {
        .transient(message: description, retryAfter: nil)
    }

    /// The job outcome this call outcome amounts to, once unauthorized has had its one retry.
    public func handlerOutcome(status: Int?, successDetail: String? = nil) -> HandlerOutcome {
        switch self {
        case .success:
            return .success(detail: successDetail, httpStatus: status)
        case .unauthorized(let message):
            return .permanent(reason: "unauthorized even with a fresh token: \(message)", httpStatus: status)
        case .transient(let message, let retryAfter):
            return .transient(reason: message, retryAfter: retryAfter, httpStatus: status)
        case .permanent(let message):
            return .permanent(reason: message, httpStatus: status)
        }
    }
}

/// The answer to one call to a remote API: a value, or how the call failed (already classified).
public enum CallResult<Value: Sendable>: Sendable {
    case ok(Value, status: Int)
    case failed(CallOutcome, status: Int?)

    /// The job outcome of a call that ends an attempt.
    public func handlerOutcome(detail: (Value) -> String?) -> HandlerOutcome {
        switch self {
        case .ok(let value, let status): .success(detail: detail(value), httpStatus: status)
        case .failed(let outcome, let status): outcome.handlerOutcome(status: status)
        }
    }
}
