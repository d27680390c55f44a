import CurlHTTP
import Foundation
import Testing

@Suite("Round trips over loopback HTTP")
struct RoundTripTests {
    @Test func getReturnsStatusHeadersAndBody() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(
                url: server.url("/echo"),
                headers: ["X-Custom": "abc", "Accept": "application/json"]
            ))
            #expect(response.status == 200)
            #expect(response.header("x-echo-method") == "GET")
            #expect(response.header("X-ECHO-H-X-CUSTOM") == "abc")
            #expect(response.header("x-echo-h-accept") == "application/json")
            #expect(response.header("x-echo-h-user-agent") == "registrar/0.1")
            // No body was given, so nothing may have been invented for one.
            #expect(response.header("x-echo-h-content-length") == nil)
            #expect(response.header("x-echo-h-content-type") == nil)
            #expect(response.body.isEmpty)
        }
    }

    @Test func postEchoesBodyBytesExactly() async throws {
        let text = "{\"name\":\"Zoë Ångström\",\"city\":\"東京\",\"emoji\":\"🎓\"}"
        // Every byte value, including NUL and invalid UTF-8, must survive.
        let body = Array(text.utf8) + (0...255).map(UInt8.init)
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(
                method: "POST",
                url: server.url("/echo"),
                headers: ["Content-Type": "application/json; charset=utf-8", "Authorization": "Bearer t0k3n"],
                body: body
            ))
            #expect(response.status == 200)
            #expect(response.header("x-echo-method") == "POST")
            #expect(response.body == body)
            #expect(response.header("x-echo-h-content-length") == String(body.count))
            #expect(response.header("x-echo-h-content-type") == "application/json; charset=utf-8")
            #expect(response.header("x-echo-h-authorization") == "Bearer t0k3n")
            #expect(response.bodyText.hasPrefix(text))
        }
    }

    @Test func postWithoutContentTypeGetsNoFormDefault() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(method: "POST", url: server.url("/echo"), body: Array("a=b".utf8)))
            #expect(response.bodyText == "a=b")
            #expect(response.header("x-echo-h-content-type") == nil)
        }
    }

    @Test func postWithoutBodySendsZeroLength() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(method: "POST", url: server.url("/echo")))
            #expect(response.status == 200)
            #expect(response.header("x-echo-method") == "POST")
            #expect(response.header("x-echo-h-content-length") == "0")
            #expect(response.body.isEmpty)
        }
    }

    @Test(arguments: ["PUT", "PATCH", "DELETE"])
    func customMethodsCarryTheirBody(method: String) async throws {
        let body = Array("payload for \(method) — ✓".utf8)
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(method: method, url: server.url("/echo"), body: body))
            #expect(response.header("x-echo-method") == method)
            #expect(response.body == body)
        }
    }

    @Test func deleteWithoutBody() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(method: "DELETE", url: server.url("/echo")))
            #expect(response.status == 200)
            #expect(response.header("x-echo-method") == "DELETE")
            #expect(response.body.isEmpty)
        }
    }

    @Test func largeBodyIsSentWithoutExpectContinue() async throws {
        // Above curl's threshold for adding "Expect: 100-continue".
        let body = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(method: "PUT", url: server.url("/echo"), body: body))
            #expect(response.header("x-echo-h-expect") == nil)
            #expect(response.body.count == body.count)
            #expect(response.body == body)
        }
    }

    @Test func largeResponseBodyIsCollected() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(url: server.url("/bytes/1000000")))
            #expect(response.body.count == 1_000_000)
            #expect(response.body == (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0) })
        }
    }

    @Test func emptyHeaderValueIsSentEmpty() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(url: server.url("/echo"), headers: ["X-Empty": ""]))
            #expect(response.header("x-echo-h-x-empty") == "")
        }
    }

    @Test func repeatedResponseHeadersAreKept() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(url: server.url("/multi")))
            #expect(response.status == 204)
            #expect(response.headers.values(for: "X-Multi") == ["one", "two"])
            #expect(response.header("x-multi") == "one")
        }
    }

    @Test(arguments: [201, 204, 301, 400, 404, 409, 429, 500, 503])
    func errorStatusesAreResponsesNotErrors(code: Int) async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(url: server.url("/status/\(code)")))
            #expect(response.status == code)
            #expect(response.retryAfter == nil)
            if code == 301 {
                // Redirects are reported, never followed.
                #expect(response.bodyText == "status 301")
            }
        }
    }

    @Test func retryAfterDeltaSecondsFromServer() async throws {
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(
                url: server.url("/status/429"),
                headers: ["X-Send-Retry-After": "120"]
            ))
            #expect(response.status == 429)
            #expect(response.header("Retry-After") == "120")
            #expect(response.retryAfter == .seconds(120))
        }
    }

    @Test func retryAfterHTTPDateFromServer() async throws {
        // Formatted with DateFormatter so the parser is checked against an
        // independent implementation.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        // Measured from the moment the date was made, so a slow, loaded machine cannot move the result.
        let base = Date()
        let date = formatter.string(from: base.addingTimeInterval(90))
        try await withServer { server, client in
            let response = try await client.execute(HTTPRequest(
                url: server.url("/status/503"),
                headers: ["X-Send-Retry-After": date]
            ))
            #expect(response.status == 503)
            let delay = try #require(response.retryAfter(now: base))
            #expect(delay > .seconds(88) && delay <= .seconds(90), "got \(delay) from \(date)")
        }
    }
}
