import Foundation

/// Decoding of URLs and bodies the way Django does it, so a client that gets encoding wrong
/// fails here as it would against a real LMS.
enum RequestParsing {
    /// `application/x-www-form-urlencoded` and query strings: `+` is a space, then %-decoding.
    /// A client must therefore send the `+` of `course-v1:edX+DemoX+…` or of an email as `%2B`.
    static func formDecode(_ text: Substring) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decodeComponent(parts[0])
            let value = parts.count > 1 ? decodeComponent(parts[1]) : ""
            return (key, value)
        }
    }

    static func decodeComponent(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Path segments, %-decoded one by one; `+` stays `+` in a path, as in Django.
    static func pathSegments(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { segment in
            String(segment).removingPercentEncoding ?? String(segment)
        }
    }

    /// Strict encoding for URLs the sandbox writes (pagination links), so they round-trip
    /// through `formDecode`.
    static func encodeComponent(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static func encodeQuery(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encodeComponent($0.0))=\(encodeComponent($0.1))" }.joined(separator: "&")
    }
}

/// What a route handler needs from an HTTP request, already read and decoded.
struct IncomingRequest: Sendable {
    var method: String
    /// The path as sent, without the query.
    var path: String
    var segments: [String]
    var query: [(String, String)]
    var body: Data
    var contentType: String?
    var authorization: String?
    /// `http://host:port` as the client addressed us, for absolute links.
    var origin: String

    func queryValue(_ name: String) -> String? {
        query.last(where: { $0.0 == name })?.1
    }

    /// The body as JSON; nil when empty, `.failure` when it does not parse.
    func jsonBody() -> Result<SandboxJSON, ParseFailure>? {
        if body.isEmpty { return nil }
        do {
            return .success(try SandboxJSON.decode(body))
        } catch {
            return .failure(ParseFailure(message: "\(error)"))
        }
    }

    func formBody() -> [(String, String)] {
        RequestParsing.formDecode(Substring(String(decoding: body, as: UTF8.self)))
    }

    struct ParseFailure: Error {
        var message: String
    }
}

extension Reply {
    /// DRF's answer to a body its JSONParser rejects.
    static func jsonParseError(_ failure: IncomingRequest.ParseFailure) -> Reply {
        .detail(.badRequest, "JSON parse error - \(failure.message)")
    }
}
