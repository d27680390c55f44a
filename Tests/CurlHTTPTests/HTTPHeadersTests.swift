import CurlHTTP
import Testing

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    @Test func lookupIgnoresCase() {
        let headers: HTTPHeaders = ["Content-Type": "application/json", "X-Request-ID": "42"]
        #expect(headers["content-type"] == "application/json")
        #expect(headers["CONTENT-TYPE"] == "application/json")
        #expect(headers["x-request-id"] == "42")
        #expect(headers["Content-Typ"] == nil)
        #expect(headers.contains("X-REQUEST-id"))
    }

    @Test func duplicatesKeepOrder() {
        var headers = HTTPHeaders()
        headers.add(name: "Set-Cookie", value: "a=1")
        headers.add(name: "set-cookie", value: "b=2")
        #expect(headers.values(for: "SET-COOKIE") == ["a=1", "b=2"])
        #expect(headers["Set-Cookie"] == "a=1")
        headers.set(name: "SET-COOKIE", value: "c=3")
        #expect(headers.values(for: "set-cookie") == ["c=3"])
        headers.remove(name: "set-cookie")
        #expect(headers.isEmpty)
    }

    @Test func bodyTextIsLossy() {
        let response = HTTPResponse(status: 200, body: Array("ok ".utf8) + [0xFF, 0xFE])
        #expect(response.bodyText == "ok \u{FFFD}\u{FFFD}")
    }

    @Test func errorDescriptionsCarryTheMessage() {
        #expect(HTTPClientError.timeout("Operation timed out after 300 ms").description.contains("300 ms"))
        #expect(HTTPClientError.connection("Connection refused").description.contains("Connection refused"))
        #expect(HTTPClientError.shutdown.description == "HTTP client is shut down")
    }
}
