import Foundation
import Sandbox
import Testing

@Suite struct EnrollmentAllowedTests {
    let path = "/api/enrollment/v1/enrollment_allowed/"

    @Test func createConflictListDelete() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let row: SandboxJSON = ["email": "newbie@example.com", "course_id": .string(demoCourse), "auto_enroll": true]
            let created = try await h.api(.post, path, token: token, json: row)
            #expect(created.status == 201)
            #expect(created.json == row)
            let again = try await h.api(.post, path, token: token, json: row)
            #expect(again.status == 409)
            #expect(again.json == ["message": .string("An enrollment allowed with email newbie@example.com and course \(demoCourse) already exists.")])

            let listed = try await h.api(.get, "\(path)?email=newbie%40example.com", token: token)
            #expect(listed.status == 200)
            #expect(listed.json == [row])

            let key: SandboxJSON = ["email": "newbie@example.com", "course_id": .string(demoCourse)]
            let deleted = try await h.api(.delete, path, token: token, json: key)
            #expect(deleted.status == 204)
            #expect(deleted.body.isEmpty)
            let missing = try await h.api(.delete, path, token: token, json: key)
            #expect(missing.status == 404)
            #expect(missing.json == ["message": .string("An enrollment allowed with email newbie@example.com and course \(demoCourse) doesn't exists.")])
            #expect(await h.sandbox.ledger().map(\.action) == [.allowedCreate, .allowedDelete])
            #expect(await h.sandbox.ledger().first?.email == "newbie@example.com")
        }
    }

    @Test func missingFieldsAre400() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.api(.post, path, token: token, json: ["auto_enroll": true])
            #expect(result.status == 400)
            #expect(result.json == ["email": ["This field is required."], "course_id": ["This field is required."]])
        }
    }

    @Test func registrationConvertsAutoEnrollRows() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.api(.post, path, token: token, json: ["email": "Newbie@Example.com", "course_id": .string(demoCourse), "auto_enroll": true])
            _ = try await h.api(.post, path, token: token, json: ["email": "newbie@example.com", "course_id": .string(closedCourse), "auto_enroll": false])

            let registered = try await h.send(.post, "/__sandbox/users", json: ["username": "newbie", "email": "newbie@example.com", "name": "New Bie"])
            #expect(registered.status == 201)
            #expect(registered.json?["auto_enrolled"] == [.string(demoCourse)])

            #expect(await h.sandbox.enrollment(username: "newbie", courseID: demoCourse) ==
                SandboxEnrollment(username: "newbie", courseID: demoCourse, mode: "audit", isActive: true))
            #expect(await h.sandbox.enrollment(username: "newbie", courseID: closedCourse) == nil)
            let ledger = await h.sandbox.ledger()
            #expect(ledger.map(\.action) == [.allowedCreate, .allowedCreate, .autoEnroll])
            #expect(ledger.last?.user == "newbie")
            #expect(ledger.last?.courseID == demoCourse)

            let lookup = try await h.api(.get, "/api/user/v1/accounts?email=newbie%40example.com", token: token)
            #expect(lookup.json?.arrayValue?.first?["username"] == "newbie")
        }
    }

    @Test func inProcessRegistrationConvertsToo() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.api(.post, path, token: token, json: ["email": "dave@example.com", "course_id": .string(demoCourse), "auto_enroll": true])
            let enrolled = try await h.sandbox.addUser(username: "dave", email: "dave@example.com")
            #expect(enrolled == [demoCourse])
            await #expect(throws: SandboxError.self) {
                try await h.sandbox.addUser(username: "dave", email: "other@example.com")
            }
            let conflict = try await h.send(.post, "/__sandbox/users", json: ["username": "dave2", "email": "dave@example.com"])
            #expect(conflict.status == 409)
        }
    }
}
