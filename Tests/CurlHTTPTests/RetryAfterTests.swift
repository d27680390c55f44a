import CurlHTTP
import Foundation
import Testing

@Suite("Retry-After and HTTP-date parsing")
struct RetryAfterTests {
    // 1994-11-06T08:49:37Z, the RFC's own example.
    let rfcExample: Int64 = 784_111_777

    @Test func deltaSeconds() {
        #expect(RetryAfter.parse("0") == .zero)
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse("  30 ") == .seconds(30))
        #expect(RetryAfter.parse("86400") == .seconds(86_400))
    }

    @Test(arguments: ["", " ", "-5", "1.5", "12s", "soon", "99999999999999999999999", "Sun, 06 Nov 1994"])
    func garbageIsNil(_ value: String) {
        #expect(RetryAfter.parse(value) == nil)
    }

    @Test func allThreeDateFormats() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == rfcExample)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == rfcExample)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == rfcExample)
    }

    @Test func datesAcrossTheCalendar() {
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 12:00:00 GMT") == 951_825_600)
        #expect(HTTPDate.parse("Fri, 31 Dec 2099 23:59:59 GMT") == 4_102_444_799)
        #expect(HTTPDate.parse("Wednesday, 01-Mar-23 10:00:00 GMT") == 1_677_664_800)
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 UTC",  // zone other than GMT
        "Sun, 31 Nov 1994 08:49:37 GMT",  // no 31 November
        "Sun, 29 Feb 1900 08:49:37 GMT",  // 1900 is not a leap year
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "06 Nov 1994 08:49:37 GMT",       // missing weekday
        "Sun, 06 Nov 1994 8:49:37 GMT",
    ])
    func invalidDates(_ value: String) {
        #expect(HTTPDate.parse(value) == nil)
    }

    @Test func dateIsRelativeToNow() {
        let now = Date(timeIntervalSince1970: TimeInterval(rfcExample) - 90)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(90))
        let fractionalNow = Date(timeIntervalSince1970: TimeInterval(rfcExample) - 9.5)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: fractionalNow) == .milliseconds(9500))
    }

    @Test func pastDateMeansNow() {
        let later = Date(timeIntervalSince1970: TimeInterval(rfcExample) + 3600)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: later) == .zero)
    }

    @Test func responseAccessorUsesHeaderCaseInsensitively() {
        let response = HTTPResponse(status: 429, headers: ["retry-after": "7"])
        #expect(response.retryAfter == .seconds(7))
        let dated = HTTPResponse(status: 503, headers: ["RETRY-AFTER": "Sun, 06 Nov 1994 08:49:37 GMT"])
        #expect(dated.retryAfter(now: Date(timeIntervalSince1970: TimeInterval(rfcExample) - 5)) == .seconds(5))
        #expect(HTTPResponse(status: 200).retryAfter == nil)
    }
}
