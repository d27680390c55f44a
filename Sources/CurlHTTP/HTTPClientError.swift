/// Transport-level failures. An HTTP error status is not one of these: it
/// arrives as a normal `HTTPResponse` so callers can read its body.
///
/// Each message carries libcurl's own error text so an operator reading a log
/// line can tell a refused connection from a DNS failure from a bad certificate.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case timeout(String)
    case connection(String)
    case invalidRequest(String)
    case shutdown

    public var description: String {
        switch self {
        case .timeout(let message): "HTTP timeout: \(message)"
        case .connection(let message): "HTTP connection error: \(message)"
        case .invalidRequest(let message): "invalid HTTP request: \(message)"
        case .shutdown: "HTTP client is shut down"
        }
    }

    /// Worth retrying later: the request may not have reached the server, or
    /// the server was too slow. Invalid requests will fail the same way again.
    public var isTransient: Bool {
        switch self {
        case .timeout, .connection: true
        case .invalidRequest, .shutdown: false
        }
    }
}
