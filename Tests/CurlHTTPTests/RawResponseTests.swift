import CurlHTTP
import Foundation
import Testing

/// Responses Hummingbird will not produce (interim 1xx, folded header lines),
/// served from a bare socket so the client's header handling is pinned down.
@Suite("Raw HTTP responses")
struct RawResponseTests {
    @Test func onlyTheFinalResponsesHeadersAreKept() async throws {
        let port = try RawOneShotServer.start(response:
            "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n" +
            "HTTP/1.1 201 Created\r\nX-Final: 1\r\nX-Folded: first\r\n\t second\r\n" +
            "Content-Length: 2\r\n\r\nok")
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let response = try await client.execute(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/", body: [1, 2, 3]))
        #expect(response.status == 201)
        #expect(response.header("X-Interim") == nil)
        #expect(response.header("x-final") == "1")
        #expect(response.header("X-Folded") == "first second")
        #expect(response.headers.count == 3)
        #expect(response.bodyText == "ok")
    }

    @Test func nonASCIIHeaderBytesAreDecodedAsUTF8() async throws {
        let port = try RawOneShotServer.start(response:
            "HTTP/1.1 200 OK\r\nX-Name: Zoë 東京\r\nContent-Length: 0\r\n\r\n")
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let response = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        #expect(response.header("x-name") == "Zoë 東京")
    }

    @Test func serverClosingWithoutReplyIsAConnectionError() async throws {
        let port = try RawOneShotServer.start(response: "")
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        }
        guard case .connection(let message)? = error else {
            Issue.record("expected .connection, got \(String(describing: error))")
            return
        }
        #expect(message.contains("Empty reply"), "message: \(message)")
    }
}

/// Accepts a single connection, reads the request head, writes `response`
/// verbatim and closes.
enum RawOneShotServer {
    static func start(response: String) throws -> Int {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw TestServerError.didNotStart }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard ready else {
            close(listener)
            throw TestServerError.didNotStart
        }
        let thread = Thread {
            defer { close(listener) }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            // The body may arrive in the same read as the head, so search rather
            // than test the suffix.
            while !received.containsHeadTerminator {
                let count = recv(connection, &buffer, buffer.count, 0)
                guard count > 0 else { return }
                received += buffer[0..<count]
            }
            let bytes = Array(response.utf8)
            _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        thread.start()
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

private extension Array where Element == UInt8 {
    var containsHeadTerminator: Bool {
        let terminator = Array("\r\n\r\n".utf8)
        guard count >= terminator.count else { return false }
        return (0...(count - terminator.count)).contains { Array(self[$0..<($0 + terminator.count)]) == terminator }
    }
}
