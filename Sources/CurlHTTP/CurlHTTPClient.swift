/// An async HTTP/1.1 client on libcurl's multi interface.
///
/// One instance shares one connection cache, so create it once and reuse it;
/// each instance owns a thread until `shutdown()` (or deinit).
public final class CurlHTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let loop: CurlMultiLoop

    public init(configuration: HTTPClientConfiguration = .init()) {
        self.configuration = configuration
        loop = CurlMultiLoop(configuration: configuration)
    }

    deinit {
        loop.shutdown()
    }

    /// Sends `request` and returns whatever status the server answered with;
    /// only transport failures throw.
    ///
    /// - Throws: `HTTPClientError`, or `CancellationError` if the calling task
    ///   is cancelled (the transfer is then aborted and its connection closed).
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try request.validate()
        let id = loop.makeID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.submit(CurlSubmission(id: id, request: request, continuation: continuation))
            }
        } onCancel: {
            loop.cancel(id)
        }
    }

    /// Idempotent. Requests queued or in flight fail with `.shutdown`, as does
    /// every later `execute`.
    public func shutdown() {
        loop.shutdown()
    }

    /// New connections opened so far, summed over finished transfers; a
    /// count well below the number of requests shows connections are reused.
    public var connectionsOpened: Int { loop.connectionsOpened }
}
