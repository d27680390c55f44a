import CurlHTTP
import Foundation
import TestSupport
import Testing

@Suite("Transport failures")
struct FailureTests {
    @Test func closedPortIsAConnectionError() async throws {
        let port = try closedLoopbackPort()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/echo"))
        }
        guard case .connection(let message)? = error else {
            Issue.record("expected .connection, got \(String(describing: error))")
            return
        }
        // The operator must see curl's detail, not just a category.
        #expect(message.contains("\(port)"), "message: \(message)")
        #expect(message.contains("GET http://127.0.0.1:\(port)/echo"), "message: \(message)")
        #expect(error?.isTransient == true)
    }

    @Test func unresolvableHostIsAConnectionError() async throws {
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://no-such-host.invalid/"))
        }
        guard case .connection? = error else {
            Issue.record("expected .connection, got \(String(describing: error))")
            return
        }
    }

    @Test func slowEndpointWithShortTimeoutTimesOut() async throws {
        try await withServer { server, client in
            let started = ContinuousClock.now
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.execute(HTTPRequest(url: server.url("/slow/20000"), timeout: .milliseconds(300)))
            }
            guard case .timeout(let message)? = error else {
                Issue.record("expected .timeout, got \(String(describing: error))")
                return
            }
            #expect(message.lowercased().contains("timed out"), "message: \(message)")
            // Far below the 20 s the answer takes; a run starved by the whole suite once took 3.9 s.
            #expect(ContinuousClock.now - started < .seconds(12))
        }
    }

    @Test func clientTotalTimeoutApplies() async throws {
        var configuration = HTTPClientConfiguration()
        configuration.totalTimeout = .milliseconds(300)
        try await withServer(configuration: configuration) { server, client in
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.execute(HTTPRequest(url: server.url("/slow/5000")))
            }
            guard case .timeout? = error else {
                Issue.record("expected .timeout, got \(String(describing: error))")
                return
            }
            // The per-request override wins over the client default (the answer takes 500 ms; the override leaves a
            // busy machine room to send it).
            let response = try await client.execute(HTTPRequest(url: server.url("/slow/500"), timeout: .seconds(30)))
            #expect(response.bodyText == "done")
        }
    }

    @Test func headerInjectionIsRejected() async throws {
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        for headers: HTTPHeaders in [["X-Evil": "a\r\nHost: other"], ["X-Evil": "a\nb"], ["Bad Name": "x"], ["": "x"]] {
            await #expect(throws: HTTPClientError.self) {
                do {
                    _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:1/", headers: headers))
                } catch let error as HTTPClientError {
                    guard case .invalidRequest = error else { Issue.record("got \(error)"); return }
                    throw error
                }
            }
        }
    }

    @Test(arguments: [
        "ftp://127.0.0.1/file", "file:///etc/passwd", "gopher://127.0.0.1/", "127.0.0.1:1/no-scheme",
        "not a url", "http://", "http://[::1/", "http://exa mple.com/",
    ])
    func nonHTTPURLsAreInvalidRequests(url: String) async throws {
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: url))
        }
        guard case .invalidRequest? = error else {
            Issue.record("expected .invalidRequest for \(url), got \(String(describing: error))")
            return
        }
    }

    @Test func invalidMethodIsRejected() async throws {
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(method: "GET /x", url: "http://127.0.0.1:1/"))
        }
    }
}
