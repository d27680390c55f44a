import Foundation
import Sandbox
import Testing

@Suite struct EnrollmentTests {
    let orderAttributes: SandboxJSON = [["namespace": "order", "name": "order_number", "value": "727"]]

    @Test func enrollIs200WithTheEnrollmentAndOneLedgerEntry() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.enroll(token, [
                "user": "alice", "mode": "verified", "is_active": true,
                "course_details": ["course_id": .string(demoCourse)],
                "enrollment_attributes": orderAttributes, "force_enrollment": true,
            ])
            #expect(result.status == 200)
            let body = try #require(result.json)
            #expect(body["user"] == "alice")
            #expect(body["mode"] == "verified")
            #expect(body["is_active"] == true)
            #expect(body["course_details"]?["course_id"] == .string(demoCourse))
            #expect(body["created"]?.stringValue?.hasPrefix("20") == true)
            let ledger = await h.sandbox.ledger()
            #expect(ledger.count == 1)
            #expect(ledger.first?.action == .enroll)
            #expect(ledger.first?.user == "alice")
            #expect(ledger.first?.email == "alice@example.com")
            #expect(ledger.first?.courseID == demoCourse)
            #expect(ledger.first?.mode == "verified")
            #expect(ledger.first?.order == "727")
            #expect(ledger.first?.seq == 1)
        }
    }

    @Test func duplicateDeliveryIsANoOp() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let request: SandboxJSON = [
                "user": "alice", "mode": "verified", "course_details": ["course_id": .string(demoCourse)],
                "enrollment_attributes": orderAttributes,
            ]
            #expect(try await h.enroll(token, request).status == 200)
            let again = try await h.enroll(token, request)
            #expect(again.status == 200)
            #expect(again.json?["mode"] == "verified")
            #expect(again.json?["is_active"] == true)
            #expect(await h.sandbox.ledger().count == 1)
        }
    }

    @Test func differentModeChangesInPlace() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.enroll(token, ["user": "alice", "mode": "audit", "course_details": ["course_id": .string(demoCourse)]])
            let upgrade = try await h.enroll(token, ["user": "alice", "mode": "verified", "course_details": ["course_id": .string(demoCourse)]])
            #expect(upgrade.status == 200)
            #expect(upgrade.json?["mode"] == "verified")
            #expect(await h.sandbox.ledger().map(\.action) == [.enroll, .modeChange])
            #expect(await h.sandbox.enrollment(username: "alice", courseID: demoCourse)?.mode == "verified")
        }
    }

    @Test func enrollByEmail() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.enroll(token, ["email": "bob@example.com", "mode": "audit", "course_details": ["course_id": .string(demoCourse)]])
            #expect(result.status == 200)
            #expect(result.json?["user"] == "bob")
            let unknown = try await h.enroll(token, ["email": "ghost@example.com", "course_details": ["course_id": .string(demoCourse)]])
            #expect(unknown.status == 406)
            #expect(unknown.json == ["message": "The user with the email address ghost@example.com does not exist."])
        }
    }

    @Test func unknownUserIs406() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.enroll(token, ["user": "ghost", "mode": "audit", "course_details": ["course_id": .string(demoCourse)]])
            #expect(result.status == 406)
            #expect(result.json == ["message": "The user ghost does not exist."])
            #expect(await h.sandbox.ledger().isEmpty)
        }
    }

    @Test func unknownOrInvalidCourseIs400() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let unknown = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": "course-v1:edX+Nope+1"]])
            #expect(unknown.status == 400)
            #expect(unknown.json == ["message": "No course 'course-v1:edX+Nope+1' found for enrollment"])
            let invalid = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": "not a key"]])
            #expect(invalid.status == 400)
            #expect(invalid.json == ["message": "No course 'not a key' found for enrollment"])
            let missing = try await h.enroll(token, ["user": "alice", "mode": "audit"])
            #expect(missing.status == 400)
            #expect(missing.json == ["message": "Course ID must be specified to create a new enrollment."])
        }
    }

    @Test func unavailableModeIs400() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.enroll(token, ["user": "alice", "mode": "professional", "course_details": ["course_id": .string(demoCourse)]])
            #expect(result.status == 400)
            #expect(result.json?["message"] == .string("The [professional] course mode is expired or otherwise unavailable for course run [\(demoCourse)]."))
            #expect(result.json?["course_details"]?["course_id"] == .string(demoCourse))
            #expect(await h.sandbox.ledger().isEmpty)
        }
    }

    @Test func closedEnrollmentIsGeneric400UnlessForced() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let closed = try await h.enroll(token, ["user": "alice", "mode": "verified", "course_details": ["course_id": .string(closedCourse)]])
            #expect(closed.status == 400)
            #expect(closed.json == ["message": .string("An error occurred while creating the new course enrollment for user 'alice' in course '\(closedCourse)'")])
            let forced = try await h.enroll(token, [
                "user": "alice", "mode": "verified", "force_enrollment": true, "course_details": ["course_id": .string(closedCourse)],
            ])
            #expect(forced.status == 200)
            #expect(await h.sandbox.ledger().count == 1)
        }
    }

    @Test func fullCourseIsGeneric400EvenWhenForced() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            #expect(try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(tinyCourse)]]).status == 200)
            let full = try await h.enroll(token, ["user": "bob", "force_enrollment": true, "course_details": ["course_id": .string(tinyCourse)]])
            #expect(full.status == 400)
            #expect(full.json == ["message": .string("An error occurred while creating the new course enrollment for user 'bob' in course '\(tinyCourse)'")])
        }
    }

    @Test func invalidActiveFlagIs400() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.enroll(token, ["user": "alice", "is_active": "yes", "course_details": ["course_id": .string(demoCourse)]])
            #expect(result.status == 400)
            #expect(result.json == ["message": "'yes' is an invalid enrollment activation status."])
        }
    }

    @Test func unenrollWithoutModeDeactivatesOnce() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.enroll(token, ["user": "alice", "mode": "verified", "course_details": ["course_id": .string(demoCourse)]])
            let unenroll: SandboxJSON = ["user": "alice", "is_active": false, "course_details": ["course_id": .string(demoCourse)]]
            let first = try await h.enroll(token, unenroll)
            #expect(first.status == 200)
            #expect(first.json?["is_active"] == false)
            #expect(first.json?["mode"] == "verified")
            let second = try await h.enroll(token, unenroll)
            #expect(second.status == 200)
            #expect(await h.sandbox.ledger().map(\.action) == [.enroll, .unenroll])
            #expect(await h.sandbox.enrollment(username: "alice", courseID: demoCourse)?.isActive == false)
        }
    }

    @Test func unenrollWithDifferentModeIsMismatch() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.enroll(token, ["user": "alice", "mode": "verified", "course_details": ["course_id": .string(demoCourse)]])
            let result = try await h.enroll(token, [
                "user": "alice", "mode": "audit", "is_active": false, "course_details": ["course_id": .string(demoCourse)],
            ])
            #expect(result.status == 400)
            #expect(result.json == ["message": "Enrollment mode mismatch: active mode=verified, requested mode=audit. Won't deactivate."])
            #expect(await h.sandbox.enrollment(username: "alice", courseID: demoCourse)?.isActive == true)
            #expect(await h.sandbox.ledger().count == 1)
        }
    }

    @Test func unenrollWithoutEnrollmentCreatesAnInactiveOne() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.enroll(token, ["user": "bob", "is_active": false, "course_details": ["course_id": .string(demoCourse)]])
            #expect(result.status == 200)
            #expect(result.json?["is_active"] == false)
            #expect(result.json?["mode"] == "audit")
            #expect(await h.sandbox.enrollment(username: "bob", courseID: demoCourse) ==
                SandboxEnrollment(username: "bob", courseID: demoCourse, mode: "audit", isActive: false))
            #expect(await h.sandbox.ledger().map(\.action) == [.unenroll])
        }
    }

    @Test func reactivationAfterUnenroll() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let course: SandboxJSON = ["course_id": .string(demoCourse)]
            _ = try await h.enroll(token, ["user": "alice", "mode": "verified", "course_details": course])
            _ = try await h.enroll(token, ["user": "alice", "is_active": false, "course_details": course])
            let back = try await h.enroll(token, ["user": "alice", "mode": "verified", "is_active": true, "course_details": course])
            #expect(back.status == 200)
            #expect(back.json?["is_active"] == true)
            #expect(await h.sandbox.ledger().map(\.action) == [.enroll, .unenroll, .enroll])
        }
    }

    @Test func getEnrollmentOrNull() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let none = try await h.api(.get, "/api/enrollment/v1/enrollment/alice,\(queryEncode(demoCourse))", token: token)
            #expect(none.status == 200)
            #expect(none.text == "null")
            _ = try await h.enroll(token, ["user": "alice", "mode": "verified", "course_details": ["course_id": .string(demoCourse)]])
            let one = try await h.api(.get, "/api/enrollment/v1/enrollment/alice,\(demoCourse)", token: token)
            #expect(one.status == 200)
            #expect(one.json?["mode"] == "verified")
            #expect(one.json?["user"] == "alice")
            #expect(one.json?["course_details"]?["course_id"] == .string(demoCourse))
        }
    }
}
