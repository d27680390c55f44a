import Foundation
import Sandbox
import Testing

@Suite struct StudioTests {
    @Test func rerunCreatesTheRunOnce() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let body: SandboxJSON = [
                "run": "2026T1C19", "title": "Demo for Contract 19", "pacing_type": "self_paced",
                "schedule": ["start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"],
            ]
            let created = try await h.api(.post, "/api/v1/course_runs/\(demoCourse)/rerun/", token: token, json: body)
            #expect(created.status == 201)
            #expect(created.json?["id"] == "course-v1:edX+DemoX+2026T1C19")
            #expect(created.json?["title"] == "Demo for Contract 19")
            #expect(created.json?["pacing_type"] == "self_paced")
            #expect(created.json?["schedule"]?["start"]?.stringValue?.hasPrefix("2026-01-01T00:00:00") == true)

            let again = try await h.api(.post, "/api/v1/course_runs/\(demoCourse)/rerun/", token: token, json: body)
            #expect(again.status == 400)
            #expect(again.json == ["run": ["Course run course-v1:edX+DemoX+2026T1C19 already exists"]])

            let ledger = await h.sandbox.ledger()
            #expect(ledger.count == 1)
            #expect(ledger.first?.action == .rerun)
            #expect(ledger.first?.courseID == "course-v1:edX+DemoX+2026T1C19")
            #expect(ledger.first?.sourceCourseID == demoCourse)

            // The new run takes enrollments in the source's modes.
            let enroll = try await h.enroll(token, ["user": "alice", "mode": "verified", "course_details": ["course_id": "course-v1:edX+DemoX+2026T1C19"]])
            #expect(enroll.status == 200)
        }
    }

    @Test func unknownSourceIs404AndMissingRunIs400() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let unknown = try await h.api(.post, "/api/v1/course_runs/course-v1:edX+Nope+1/rerun/", token: token, json: ["run": "X"])
            #expect(unknown.status == 404)
            let noRun = try await h.api(.post, "/api/v1/course_runs/\(demoCourse)/rerun", token: token, json: ["title": "t"])
            #expect(noRun.status == 400)
            #expect(noRun.json == ["run": ["This field is required."]])
            let badSchedule = try await h.api(.post, "/api/v1/course_runs/\(demoCourse)/rerun", token: token, json: ["run": "R1", "schedule": ["start": "2026-01-01T00:00:00Z"]])
            #expect(badSchedule.status == 400)
            #expect(badSchedule.json?["schedule"]?["end"] == ["This field is required."])
            #expect(await h.sandbox.ledger().isEmpty)
        }
    }

    @Test func patchSetsTheSchedule() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            _ = try await h.api(.post, "/api/v1/course_runs/\(demoCourse)/rerun/", token: token, json: ["run": "R2"])
            let key = "course-v1:edX+DemoX+R2"
            let patched = try await h.api(.patch, "/api/v1/course_runs/\(key)/", token: token, json: [
                "schedule": ["start": "2026-03-01T00:00:00Z", "end": "2026-06-01T00:00:00Z", "enrollment_end": "2020-01-01T00:00:00Z"],
            ])
            #expect(patched.status == 200)
            #expect(patched.json?["schedule"]?["end"]?.stringValue?.hasPrefix("2026-06-01") == true)
            // An enrollment end in the past closes enrollment.
            let closed = try await h.enroll(token, ["user": "alice", "course_details": ["course_id": .string(key)]])
            #expect(closed.status == 400)
            let missing = try await h.api(.patch, "/api/v1/course_runs/course-v1:edX+Nope+1/", token: token, json: ["title": "x"])
            #expect(missing.status == 404)
        }
    }
}
