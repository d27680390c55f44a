import CurlHTTP
import Foundation
import OpenEdX
import RegistrarCore
import Sandbox
import Testing

/// The enrollments list in both of its paging styles, the accounts lookup by name, and the enrollments made
/// outside Registrar that a benchmark or a reconciliation test starts from.
@Suite struct EnrollmentListingTests {
    @Test(arguments: SandboxPagination.allCases)
    func aCourseIsListedWholeAndInOrderFollowingNext(_ style: SandboxPagination) async throws {
        let harness = try await Harness(callTimeout: .seconds(10)) { configuration in
            configuration.enrollmentsPagination = style
            configuration.enrollmentsPageSize = 2
            configuration.seed.users += (1...5).map { .init(username: "u\($0)", email: "u\($0)@example.com") }
            configuration.seed.enrollments = (1...5).map { .init(user: "u\($0)", courseID: demoCourse, isActive: $0 != 3) }
                + [.init(user: "ann", courseID: "course-v1:edX+DemoX+2026")]
        }
        guard case .ok(let all, 200) = await harness.client.enrollments(courseID: demoCourse) else {
            Issue.record("listing failed"); return
        }
        #expect(all.map(\.user) == ["u1", "u2", "u3", "u4", "u5"], "creation order, the other course left out")
        #expect(all.map(\.isActive) == [true, true, false, true, true], "inactive enrollments are listed too")
        guard case .ok(let some, _) = await harness.client.enrollments(courseID: demoCourse, usernames: ["u5", "u2", "u4"]) else {
            Issue.record("filtered listing failed"); return
        }
        #expect(some.map(\.user) == ["u2", "u4", "u5"])
        guard case .ok(let none, _) = await harness.client.enrollments(courseID: "course-v1:edX+Empty+1") else {
            Issue.record("an empty course should list as nothing"); return
        }
        #expect(none.isEmpty)
        #expect(await harness.sandbox.stats().requests["GET /api/enrollment/v1/enrollments"] == 3 + 2 + 1)
        await harness.shutdown()
    }

    @Test(arguments: SandboxPagination.allCases)
    func aThreeThousandEnrollmentCourseListsCompletely(_ style: SandboxPagination) async throws {
        let harness = try await Harness(callTimeout: .seconds(30)) { $0.enrollmentsPagination = style }
        try await harness.sandbox.seedEnrollments(SandboxBulkEnrollment(courseID: demoCourse, count: 2_999, prefix: "learner"))
        // Enrollments in another course come between, as they would on a real LMS.
        try await harness.sandbox.seedEnrollments(SandboxBulkEnrollment(courseID: "course-v1:edX+DemoX+2026", count: 50, prefix: "learner"))
        try await harness.sandbox.seedEnrollment(SandboxSeedEnrollment(username: "ann", courseID: demoCourse, mode: "verified", isActive: false))
        guard case .ok(let all, _) = await harness.client.enrollments(courseID: demoCourse) else {
            Issue.record("listing failed"); return
        }
        let expected = (1...2_999).map { "learner\($0)" } + ["ann"]
        #expect(all.count == 3_000)
        #expect(all.map(\.user) == expected, "none missing, none twice, in creation order")
        #expect(all.last?.mode == "verified" && all.last?.isActive == false)
        #expect(await harness.sandbox.stats().requests["GET /api/enrollment/v1/enrollments"] == 30)
        await harness.shutdown()
    }

    @Test func pageNumbersAnswerAsDRFDoes() async throws {
        let harness = try await Harness(callTimeout: .seconds(10)) { configuration in
            configuration.enrollmentsPagination = .pageNumber
            configuration.enrollmentsPageSize = 2
        }
        try await harness.sandbox.seedEnrollments(SandboxBulkEnrollment(courseID: demoCourse, count: 5, prefix: "p"))
        let token = try await harness.token()
        let base = "\(harness.sandbox.baseURL)/api/enrollment/v1/enrollments"
        let course = FormEncoding.escape(demoCourse)

        let first = try await harness.get("\(base)?course_id=\(course)", token: token)
        #expect(first.status == 200)
        #expect(Set(first.json?.objectValue?.keys.map { $0 } ?? [])
                == ["count", "num_pages", "current_page", "start", "next", "previous", "results"])
        #expect(first.json?["count"] == 5 && first.json?["num_pages"] == 3 && first.json?["current_page"] == 1)
        #expect(first.json?["start"] == 0 && first.json?["previous"] == .null)
        #expect(first.json?["next"] == .string("\(base)?course_id=\(course)&page=2"), "absolute, the same filters, the next page")
        #expect(first.json?["results"]?.arrayValue?.compactMap { $0["user"]?.stringValue } == ["p1", "p2"])

        let second = try await harness.get("\(base)?course_id=\(course)&page=2", token: token)
        #expect(second.json?["previous"] == .string("\(base)?course_id=\(course)"), "DRF's link back to page 1 has no page")
        #expect(second.json?["next"] == .string("\(base)?course_id=\(course)&page=3"))
        #expect(second.json?["start"] == 2)

        let last = try await harness.get("\(base)?course_id=\(course)&page=last", token: token)
        #expect(last.json?["current_page"] == 3 && last.json?["next"] == .null)
        #expect(last.json?["previous"] == .string("\(base)?course_id=\(course)&page=2"))
        #expect(last.json?["results"]?.arrayValue?.compactMap { $0["user"]?.stringValue } == ["p5"])

        for page in ["4", "0", "-1", "two"] {
            let past = try await harness.get("\(base)?course_id=\(course)&page=\(page)", token: token)
            #expect(past.status == 404 && past.json == ["detail": "Invalid page."], "page=\(page)")
        }
        // An empty list still has its page 1.
        let empty = try await harness.get("\(base)?course_id=\(FormEncoding.escape("course-v1:edX+Empty+1"))", token: token)
        #expect(empty.status == 200 && empty.json?["count"] == 0 && empty.json?["num_pages"] == 1 && empty.json?["results"] == [])
        await harness.shutdown()
    }

    @Test func thePagingStyleChangesWhileRunningAndAResetRestoresIt() async throws {
        let harness = try await Harness(callTimeout: .seconds(10))
        try await harness.sandbox.seedEnrollments(SandboxBulkEnrollment(courseID: demoCourse, count: 3))
        let settings = "\(harness.sandbox.baseURL)/__sandbox/lms/settings"
        #expect(try await harness.get(settings).json == ["enrollments_pagination": "cursor", "enrollments_page_size": 100])
        let changed = try await harness.post(settings, #"{"enrollments_pagination": "page_number", "enrollments_page_size": 2}"#)
        #expect(changed.status == 200 && changed.json == ["enrollments_pagination": "page_number", "enrollments_page_size": 2])
        let token = try await harness.token()
        let url = "\(harness.sandbox.baseURL)/api/enrollment/v1/enrollments?course_id=\(FormEncoding.escape(demoCourse))"
        let page = try await harness.get(url, token: token)
        #expect(page.json?["num_pages"] == 2 && page.json?["results"]?.arrayValue?.count == 2)
        guard case .ok(let all, _) = await harness.client.enrollments(courseID: demoCourse) else {
            Issue.record("listing failed"); return
        }
        #expect(all.map(\.user) == ["bulk1", "bulk2", "bulk3"])
        #expect(try await harness.post(settings, #"{"enrollments_pagination": "offset"}"#).status == 400)
        #expect(try await harness.post(settings, #"{"enrollments_page_size": 0}"#).status == 400)

        try await harness.sandbox.reset()
        #expect(try await harness.get(settings).json == ["enrollments_pagination": "cursor", "enrollments_page_size": 100])
        await harness.sandbox.setEnrollmentsList(pagination: .pageNumber)
        #expect(try await harness.get(settings).json?["enrollments_pagination"] == "page_number")
        await harness.shutdown()
    }

    @Test func enrollmentsMadeOutsideRegistrarAreStateNotLedger() async throws {
        let harness = try await Harness(callTimeout: .seconds(10))
        let url = "\(harness.sandbox.baseURL)/__sandbox/enrollments"
        let made = try await harness.post(url, """
            {"username": "zoe", "email": "zoe@example.com", "course_id": "\(demoCourse)", "mode": "verified"}
            """)
        #expect(made.status == 201)
        #expect(made.json?["user"] == "zoe" && made.json?["mode"] == "verified" && made.json?["is_active"] == true)
        let again = try await harness.post(url, #"{"username": "zoe", "course_id": "\#(demoCourse)", "is_active": false}"#)
        #expect(again.status == 200 && again.json?["mode"] == "verified" && again.json?["is_active"] == false,
                "an existing enrollment keeps what is not sent")
        let many = try await harness.post(url, """
            [{"username": "ann", "course_id": "\(demoCourse)"}, {"username": "bob", "course_id": "\(demoCourse)", "mode": "verified"}]
            """)
        #expect(many.status == 201 && many.json == ["created": 2, "updated": 0])
        let bulk = try await harness.post(url, #"{"course_id": "\#(demoCourse)", "count": 1000, "prefix": "bulk", "mode": "audit"}"#)
        #expect(bulk.status == 201)
        #expect(bulk.json == ["created": 1000, "updated": 0, "accounts_created": 1000, "first_username": "bulk1", "last_username": "bulk1000"])
        // The same learners in another course reuse their accounts.
        let other = try await harness.post(url, #"{"course_id": "course-v1:edX+DemoX+2026", "count": 10, "prefix": "bulk"}"#)
        #expect(other.json?["accounts_created"] == 0 && other.json?["created"] == 10)

        for (body, status) in [
            (#"{"username": "nobody", "course_id": "\#(demoCourse)"}"#, 400),          // no account and no email to make one
            (#"{"username": "zoe", "course_id": "course-v1:edX+Nope+1"}"#, 404),        // no such course
            (#"{"username": "zoe", "course_id": "\#(demoCourse)", "mode": "honor"}"#, 400),  // mode not offered
            (#"{"username": "zoe", "email": "other@example.com", "course_id": "\#(demoCourse)"}"#, 409),
            (#"{"course_id": "\#(demoCourse)", "count": 0}"#, 400),
            (#"{"course_id": "\#(demoCourse)", "count": 2, "prefix": "u", "email_domain": "example.com"}"#, 201),
            (#"{"course_id": "\#(demoCourse)", "count": 2, "prefix": "v", "email_domain": "x y"}"#, 400),
        ] {
            #expect(try await harness.post(url, body).status == status, "\(body)")
        }

        // Registrar's client sees them as any enrollment...
        guard case .ok(let zoe, _) = await harness.client.enrollment(username: "zoe", courseID: demoCourse) else {
            Issue.record("reading failed"); return
        }
        #expect(zoe?.isActive == false && zoe?.mode == "verified")
        guard case .ok(let all, _) = await harness.client.enrollments(courseID: demoCourse) else {
            Issue.record("listing failed"); return
        }
        #expect(all.count == 1005, "zoe, ann and bob, 1000 bulk, 2 more")
        let listed = try await harness.get(url + "?course_id=\(FormEncoding.escape("course-v1:edX+DemoX+2026"))")
        #expect(listed.json?.arrayValue?.count == 10)
        // ...and they are neither changes applied for a client nor calls a client made.
        #expect(await harness.sandbox.ledger().isEmpty)
        let requests = await harness.sandbox.stats().requests
        #expect(requests.keys.filter { $0.contains("/api/enrollment/v1/enrollment") && !$0.hasPrefix("GET") }.isEmpty)
        await harness.shutdown()
    }

    @Test func creatingAnAccountOutsideRegistrarConvertsItsPendingAllowance() async throws {
        let harness = try await Harness(unknownLearner: .allow, callTimeout: .seconds(10))
        harness.startWorkers()
        _ = try await harness.waitFor(try await harness.enroll("late@example.com"))
        let seeded = try await harness.sandbox.seedEnrollment(
            SandboxSeedEnrollment(username: "late", email: "late@example.com", courseID: "course-v1:edX+DemoX+2026"))
        #expect(seeded.isActive && seeded.mode == "audit")
        #expect(await harness.ledger().map(\.action) == [.allowedCreate, .autoEnroll], "registration converts the allowance")
        #expect(await harness.sandbox.enrollment(username: "late", courseID: demoCourse)?.isActive == true)
        await harness.shutdown()
    }

    @Test func accountsAreLookedUpByNameAHundredAtATime() async throws {
        let harness = try await Harness(callTimeout: .seconds(10))
        try await harness.sandbox.seedEnrollments(SandboxBulkEnrollment(courseID: demoCourse, count: 250, prefix: "n", emailDomain: "school.test"))
        let asked = (1...250).map { "n\($0)" } + ["ghost", "n7", "ann", "", "a,b"]
        guard case .ok(let emails, _) = await harness.client.accounts(usernames: asked) else {
            Issue.record("lookup failed"); return
        }
        #expect(emails.count == 251)
        #expect(emails["n1"] == "n1@school.test" && emails["n250"] == "n250@school.test" && emails["ann"] == "ann@example.com")
        #expect(emails["ghost"] == nil)
        #expect(await harness.sandbox.stats().requests["GET /api/user/v1/accounts"] == 3, "252 names in batches of 100")

        guard case .ok(let nobody, 404) = await harness.client.accounts(usernames: ["ghost", "phantom"]) else {
            Issue.record("unknown names should read as none"); return
        }
        #expect(nobody.isEmpty)
        guard case .ok(let nothing, _) = await harness.client.accounts(usernames: []) else {
            Issue.record("no names should need no call"); return
        }
        #expect(nothing.isEmpty)
        #expect(await harness.sandbox.stats().requests["GET /api/user/v1/accounts"] == 4)

        let token = try await harness.token()
        let base = "\(harness.sandbox.baseURL)/api/user/v1/accounts"
        let tooMany = try await harness.get("\(base)?username=\((1...101).map { "n\($0)" }.joined(separator: ","))", token: token)
        #expect(tooMany.status == 400)
        #expect(tooMany.json == ["username": ["Too many usernames in a single request - 101. A maximum of 100 is allowed"]])
        // The LMS reads `username`, also for a list; `usernames` is no parameter of it.
        #expect(try await harness.get("\(base)?usernames=n1,n2", token: token).status == 400)
        let two = try await harness.get("\(base)?username=n2,n1,n2", token: token)
        #expect(two.json?.arrayValue?.compactMap { $0["username"]?.stringValue } == ["n2", "n1"])
        await harness.shutdown()
    }

}

/// Plain HTTP to the sandbox, for what the client does not expose: the control plane and raw pages.
extension Harness {
    struct RawAnswer {
        var status: Int
        var json: SandboxJSON?
    }

    func token() async throws -> String {
        let body = "grant_type=client_credentials&client_id=registrar-worker&client_secret=sandbox-secret&token_type=jwt"
        let answer = try await http.execute(HTTPRequest(method: "POST", url: sandbox.baseURL + "/oauth2/access_token",
                                                        headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                        body: Array(body.utf8)))
        return try #require(try SandboxJSON.decode(Data(answer.body))["access_token"]?.stringValue)
    }

    func get(_ url: String, token: String? = nil) async throws -> RawAnswer {
        var headers: HTTPHeaders = [:]
        if let token { headers.set(name: "Authorization", value: "JWT \(token)") }
        let answer = try await http.execute(HTTPRequest(method: "GET", url: url, headers: headers))
        return RawAnswer(status: answer.status, json: try? SandboxJSON.decode(Data(answer.body)))
    }

    func post(_ url: String, _ json: String) async throws -> RawAnswer {
        let answer = try await http.execute(HTTPRequest(method: "POST", url: url, headers: ["Content-Type": "application/json"],
                                                        body: Array(json.utf8)))
        return RawAnswer(status: answer.status, json: try? SandboxJSON.decode(Data(answer.body)))
    }
}
