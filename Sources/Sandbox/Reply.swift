import Foundation
import Hummingbird

/// A control-plane or seed error. The Open edX and WooCommerce routes never throw these: they
/// answer with the real services' status codes and bodies instead.
public enum SandboxError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case conflict(String)
    case notFound(String)
    case serverStopped

    public var description: String {
        switch self {
        case .invalid(let message): return "invalid: \(message)"
        case .conflict(let message): return "conflict: \(message)"
        case .notFound(let message): return "not found: \(message)"
        case .serverStopped: return "the sandbox server stopped before it was listening"
        }
    }

    /// The same error, its message saying where it happened.
    func prefixed(_ context: String) -> SandboxError {
        switch self {
        case .invalid(let message): return .invalid("\(context): \(message)")
        case .conflict(let message): return .conflict("\(context): \(message)")
        case .notFound(let message): return .notFound("\(context): \(message)")
        case .serverStopped: return self
        }
    }
}

/// An answer, built inside the state actor so that each request is applied atomically.
struct Reply: Sendable {
    enum Body: Sendable {
        case empty
        case json(SandboxJSON)
        case text(String, contentType: String)
    }

    var status: HTTPResponse.Status
    var body: Body
    var headers: HTTPFields = [:]

    static func json(_ status: HTTPResponse.Status, _ body: SandboxJSON, headers: HTTPFields = [:]) -> Reply {
        Reply(status: status, body: .json(body), headers: headers)
    }

    static func ok(_ body: SandboxJSON) -> Reply { .json(.ok, body) }

    static func empty(_ status: HTTPResponse.Status) -> Reply { Reply(status: status, body: .empty) }

    /// DRF's `{"message": ...}` error shape used by the enrollment views.
    static func message(_ status: HTTPResponse.Status, _ text: String) -> Reply {
        .json(status, ["message": .string(text)])
    }

    /// DRF's `{"detail": ...}` shape used by authentication, throttling and 404s.
    static func detail(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Reply {
        .json(status, ["detail": .string(text)], headers: headers)
    }

    /// The sandbox's own control-plane error shape.
    static func controlError(_ error: SandboxError) -> Reply {
        switch error {
        case .invalid(let m): return .json(.badRequest, ["error": "invalid", "message": .string(m)])
        case .conflict(let m): return .json(.conflict, ["error": "conflict", "message": .string(m)])
        case .notFound(let m): return .json(.notFound, ["error": "not_found", "message": .string(m)])
        case .serverStopped: return .json(.internalServerError, ["error": "stopped", "message": .string(error.description)])
        }
    }

    /// Django's production 404 page, for paths no route matches.
    static let djangoNotFound = Reply(
        status: .notFound,
        body: .text(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n",
            contentType: "text/html; charset=utf-8"
        )
    )

    func response() -> Response {
        var headers = self.headers
        let buffer: ByteBuffer
        switch body {
        case .empty:
            buffer = ByteBuffer()
        case .json(let value):
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: (try? value.encoded()) ?? Data("null".utf8))
        case .text(let text, let contentType):
            headers[.contentType] = contentType
            buffer = ByteBuffer(string: text)
        }
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }
}
