import Foundation
import Sandbox
import Testing

@Suite struct SeedAndControlTests {
    @Test func loadsASeedFile() async throws {
        let json = """
            {"users": [{"username": "zoe", "email": "zoe@example.com", "name": "Zoe Z"}],
             "courses": [{"id": "course-v1:Org+C1+R1", "modes": ["audit", "verified"], "enrollment_open": true},
                         {"id": "course-v1:Org+C2+R1", "modes": ["verified"], "max_enrollments": 10}],
             "enrollments": [{"user": "zoe", "course_id": "course-v1:Org+C1+R1", "mode": "verified"}],
             "woocommerce": {"orders": [{"id": 5, "status": "processing", "line_items": [{"id": 9, "product_id": 1, "total": "3.00"}]}],
                             "refunds": [{"order_id": 5, "refund": {"id": 6, "line_items": [{"refunded_item_id": 9, "quantity": 1}]}}]}}
            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-seed-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }

        let seed = try SandboxSeed.load(path: url.path)
        #expect(seed.users == [SandboxSeed.User(username: "zoe", email: "zoe@example.com", name: "Zoe Z")])
        #expect(seed.courses.count == 2)
        #expect(seed.courses[0].enrollmentOpen == true)
        #expect(seed.courses[1].maxEnrollments == 10)
        #expect(seed.enrollments.first?.mode == "verified")
        #expect(seed.woocommerce.refunds.first?.orderID == 5)

        try await Harness.run({ $0.seed = seed }) { h in
            #expect(await h.sandbox.enrollment(username: "zoe", courseID: "course-v1:Org+C1+R1")?.mode == "verified")
            #expect(await h.sandbox.ledger().isEmpty)
            let token = try await h.token()
            let again = try await h.enroll(token, ["user": "zoe", "mode": "verified", "course_details": ["course_id": "course-v1:Org+C1+R1"]])
            #expect(again.status == 200)
            #expect(await h.sandbox.ledger().isEmpty)
            let refund = try await h.send(
                .get, "/wp-json/wc/v3/orders/5/refunds/6",
                headers: [.authorization: "Basic " + Data("ck_sandbox:cs_sandbox".utf8).base64EncodedString()]
            )
            #expect(refund.json?["line_items"]?.arrayValue?.first?["total"] == "-3.00")
        }
    }

    @Test func rejectsBadSeeds() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-bad-\(UUID().uuidString).json")
        try Data(#"{"users": [{"username": "x"}]}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: SandboxError.self) { try SandboxSeed.load(path: url.path) }

        var configuration = SandboxConfiguration()
        configuration.port = 0
        configuration.seed = SandboxSeed(enrollments: [.init(user: "nobody", courseID: demoCourse)])
        await #expect(throws: SandboxError.self) { _ = try await Sandbox.start(configuration) }
    }

    @Test func demoSeedHasTheDemoRuns() async throws {
        try await Harness.run({ $0.seed = .demo }) { h in
            let token = try await h.token()
            for course in [SandboxSeed.demoCourseID, SandboxSeed.demoCourse2026ID] {
                let result = try await h.enroll(token, ["user": "audrey", "mode": "verified", "course_details": ["course_id": .string(course)]])
                #expect(result.status == 200)
            }
            #expect(SandboxSeed.demoCourseID == "course-v1:edX+DemoX+Demo_Course")
            #expect(SandboxSeed.demoCourse2026ID == "course-v1:edX+DemoX+2026")
        }
    }

    @Test func ledgerEndpointHasExplicitNulls() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(demoCourse)]])
            let result = try await h.send(.get, "/__sandbox/ledger")
            #expect(result.status == 200)
            let entry = try #require(result.json?.arrayValue?.first)
            #expect(entry["seq"] == 1)
            #expect(entry["action"] == "enroll")
            #expect(entry["user"] == "alice")
            #expect(entry["mode"] == "audit")
            #expect(entry["order"] == .null)
            #expect(entry["at"]?.stringValue?.hasSuffix("Z") == true)
            let decoded = try JSONDecoder().decode([LedgerEntry].self, from: result.body)
            let inProcess = await h.sandbox.ledger()
            #expect(decoded == inProcess, "\(decoded) vs \(inProcess)")
            let since = try await h.send(.get, "/__sandbox/ledger?since=1")
            #expect(since.json == [])
        }
    }

    @Test func coursesCanBeAddedAndClosed() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let created = try await h.send(.post, "/__sandbox/courses", json: ["id": "course-v1:New+N1+R", "modes": ["audit"]])
            #expect(created.status == 201)
            #expect(try await h.enroll(token, ["user": "alice", "course_details": ["course_id": "course-v1:New+N1+R"]]).status == 200)
            let closed = try await h.send(.post, "/__sandbox/courses", json: ["id": "course-v1:New+N1+R", "modes": ["audit"], "enrollment_open": false])
            #expect(closed.status == 200)
            #expect(try await h.enroll(token, ["user": "bob", "course_details": ["course_id": "course-v1:New+N1+R"]]).status == 400)
            let invalid = try await h.send(.post, "/__sandbox/courses", json: ["id": "nonsense", "modes": ["audit"]])
            #expect(invalid.status == 400)
        }
    }

    @Test func statsAndResetAndUnknownPaths() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(demoCourse)]])
            let stats = try await h.send(.get, "/__sandbox/stats")
            #expect(stats.json?["tokens_issued"] == 1)
            #expect(stats.json?["requests"]?["POST /api/enrollment/v1/enrollment"] == 1)
            #expect(stats.json?["ledger_entries"] == 1)

            #expect(try await h.send(.get, "/api/nothing/here", headers: [.authorization: "JWT \(token)"]).status == 404)
            #expect(try await h.api(.get, "/api/enrollment/v1/enrollment", token: token).status == 405)

            #expect(try await h.send(.post, "/__sandbox/reset").status == 200)
            #expect(await h.sandbox.ledger().isEmpty)
            #expect(await h.sandbox.enrollment(username: "alice", courseID: demoCourse) == nil)
            #expect(try await h.api(.get, "/api/user/v1/accounts?email=alice%40example.com", token: token).status == 200)
        }
    }
}
