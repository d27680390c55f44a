import Foundation
import Sandbox
import Testing

@Suite struct EnrollmentListTests {
    @Test func followsNextVerbatimAcrossPages() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            for index in 0..<5 {
                let username = "learner\(index)"
                try await h.sandbox.addUser(username: username, email: "\(username)@example.com")
                let result = try await h.enroll(token, ["user": .string(username), "course_details": ["course_id": .string(demoCourse)]])
                #expect(result.status == 200)
            }
            // One enrollment elsewhere, which the course filter must leave out.
            _ = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(tinyCourse)]])

            let authority = "127.0.0.1:\(h.sandbox.port)"
            var url: String? = "\(h.sandbox.baseURL)/api/enrollment/v1/enrollments?course_id=\(queryEncode(demoCourse))&page_size=2"
            var seen: [String] = []
            var pages = 0
            var previousLinks: [Bool] = []
            while let next = url {
                #expect(next.hasPrefix(h.sandbox.baseURL))
                let path = String(next.dropFirst(h.sandbox.baseURL.count))
                let page = try await h.send(.get, path, headers: [.authorization: "JWT \(token)"], authority: authority)
                #expect(page.status == 200)
                let body = try #require(page.json)
                let results = try #require(body["results"]?.arrayValue)
                #expect(results.count <= 2)
                #expect(results.allSatisfy { $0["course_id"] == .string(demoCourse) })
                seen += results.compactMap { $0["user"]?.stringValue }
                previousLinks.append(body["previous"] != .null)
                url = body["next"]?.stringValue
                pages += 1
                if pages > 5 { break }
            }
            #expect(pages == 3)
            #expect(seen == ["learner0", "learner1", "learner2", "learner3", "learner4"])
            #expect(previousLinks == [false, true, true])
        }
    }

    @Test func filtersByUsernames() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            for user in ["alice", "bob", "carol"] {
                _ = try await h.enroll(token, ["user": .string(user), "course_details": ["course_id": .string(demoCourse)]])
            }
            let result = try await h.api(.get, "/api/enrollment/v1/enrollments/?course_id=\(queryEncode(demoCourse))&username=alice,carol", token: token)
            #expect(result.status == 200)
            let users = result.json?["results"]?.arrayValue?.compactMap { $0["user"]?.stringValue }
            #expect(users == ["alice", "carol"])
            #expect(result.json?["next"] == .null)
            let item = try #require(result.json?["results"]?.arrayValue?.first)
            #expect(Set(item.objectValue?.keys.map { $0 } ?? []) == ["created", "mode", "is_active", "user", "course_id"])
        }
    }

    @Test func badCursorIs404() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.api(.get, "/api/enrollment/v1/enrollments?cursor=%21%21", token: token)
            #expect(result.status == 404)
            #expect(result.json == ["detail": "Invalid cursor"])
        }
    }
}
