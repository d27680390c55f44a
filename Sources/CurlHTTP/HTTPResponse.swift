import Foundation

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Headers of the final response only; interim (1xx) responses are dropped.
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// First value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers[name]
    }

    /// Invalid UTF-8 becomes U+FFFD rather than failing, because this is for
    /// logs and error messages where something readable beats nothing.
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// How long the server asked us to wait, relative to now.
    public var retryAfter: Duration? {
        retryAfter(now: Date())
    }

    public func retryAfter(now: Date) -> Duration? {
        header("Retry-After").flatMap { RetryAfter.parse($0, now: now) }
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}
