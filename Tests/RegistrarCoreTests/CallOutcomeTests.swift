import RegistrarCore
import Testing

@Suite struct CallOutcomeTests {
    @Test(arguments: [200, 201, 204, 299])
    func twoHundredsSucceed(status: Int) {
        #expect(CallOutcome.classify(status: status, body: "", retryAfter: nil) == .success)
    }

    @Test(arguments: [400, 403, 404, 406, 409, 410, 422, 301, 302])
    func clientErrorsArePermanentWithTheServersMessage(status: Int) {
        guard case .permanent(let message) = CallOutcome.classify(status: status, body: #"{"message": "nope"}"#, retryAfter: nil)
        else { Issue.record("\(status) not permanent"); return }
        #expect(message == "HTTP \(status): nope")
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func throttlingTimeoutsAndServerErrorsAreTransient(status: Int) {
        let outcome = CallOutcome.classify(status: status, body: "", retryAfter: .seconds(7))
        #expect(outcome == .transient(message: "HTTP \(status) with an empty body", retryAfter: .seconds(7)))
    }

    @Test func unauthorizedIsItsOwnClassAndPermanentOnceRetried() {
        let outcome = CallOutcome.classify(status: 401, body: #"{"detail": "Token expired"}"#, retryAfter: nil)
        #expect(outcome == .unauthorized(message: "HTTP 401: Token expired"))
        #expect(outcome.handlerOutcome(status: 401)
                == .permanent(reason: "unauthorized even with a fresh token: HTTP 401: Token expired", httpStatus: 401))
    }

    @Test func transportFailuresAreTransient() {
        #expect(CallOutcome.transportFailure("connection refused").handlerOutcome(status: nil)
                == .transient(reason: "connection refused", retryAfter: nil, httpStatus: nil))
    }

    @Test func messagesComeFromWhereOpenEdXPutsThem() {
        #expect(ServerMessage.extract(status: 400, body: #""No course 'course-v1:X+Y+Z' found for enrollment""#)
                == "HTTP 400: No course 'course-v1:X+Y+Z' found for enrollment")
        #expect(ServerMessage.extract(status: 406, body: #"{"message": "The user bob does not exist."}"#)
                == "HTTP 406: The user bob does not exist.")
        #expect(ServerMessage.extract(status: 400, body: #"{"run": ["Course run course-v1:A+B+C already exists"]}"#)
                == "HTTP 400: run: Course run course-v1:A+B+C already exists")
        #expect(ServerMessage.extract(status: 401, body: #"{"error": "invalid_client"}"#) == "HTTP 401: invalid_client")
        #expect(ServerMessage.extract(status: 502, body: "<html>Bad Gateway</html>") == "HTTP 502: <html>Bad Gateway</html>")
        #expect(ServerMessage.extract(status: 404, body: "  ") == "HTTP 404 with an empty body")
        #expect(ServerMessage.extract(status: 500, body: String(repeating: "x", count: 2000)).count < 520)
    }
}

@Suite struct FormEncodingTests {
    @Test func roundTripsWhatOAuthAndCyberSourceSend() {
        let fields = [("client_secret", "a+b/c=d&e f"), ("name", "Zoë"), ("empty", "")]
        let text = FormEncoding.encode(fields)
        #expect(text == "client_secret=a%2Bb%2Fc%3Dd%26e%20f&name=Zo%C3%AB&empty=")
        let decoded = FormEncoding.decode(text)
        #expect(decoded?.map(\.0) == fields.map(\.0) && decoded?.map(\.1) == fields.map(\.1))
        #expect(FormEncoding.decode("a=1+2&b")?.map(\.1) == ["1 2", ""])
        #expect(FormEncoding.decode("webhook_id=42")?.first?.1 == "42")
    }

    @Test func rejectsBrokenEscapes() {
        #expect(FormEncoding.decode("a=%zz") == nil)
        #expect(FormEncoding.decode("a=%4") == nil)
        #expect(FormEncoding.decode("a=%ff%fe") == nil)
    }
}

@Suite struct CourseKeyTests {
    @Test func parsesRunKeysAndNamesTheRerunTarget() {
        let key = CourseKey("course-v1:edX+DemoX+Demo_Course")
        #expect(key?.org == "edX" && key?.number == "DemoX" && key?.run == "Demo_Course")
        #expect(CourseKey("edX/DemoX/2014") == nil)
        #expect(CourseKey("course-v1:edX+DemoX") == nil)
        #expect(CourseKey("course-v1:edX++X") == nil)
        #expect(RerunPayload(sourceCourseID: "course-v1:edX+DemoX+Demo_Course", run: "2026T1").targetCourseID
                == "course-v1:edX+DemoX+2026T1")
        #expect(SerialKey.enrollment(email: "  Ann@Example.COM ", courseID: "course-v1:A+B+C") == "ann@example.com|course-v1:A+B+C")
    }
}
