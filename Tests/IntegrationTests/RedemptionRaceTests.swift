import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// 64 learners redeem one one-time code at once through `serve`, over real HTTP: one wins, the rest are told
/// the code is spent, and the sandbox LMS sees one enrollment. Twenty codes, one after the other.
@Suite(.serialized) struct RedemptionRaceTests {
    @Test func sixtyFourLearnersRacingForOneCodeMakeOneEnrollmentTwentyTimesOver() async throws {
        // Every losing learner is a failed attempt from this one address: the limit is raised out of the way.
        let setup = try await WooSetup(extraYAML: "codes: {redeem_failures_per_minute: 100000}")
        let config = setup.dir.path + "/registrar.yaml"
        let created = try await runRegistrar(["tokens", "create", "--name", "shop", "--role", "storefront", "--config", config],
                                             workingDirectory: setup.dir.path)
        let token = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init), "\(created.output)")
        for learner in 0..<64 { _ = try await setup.sandbox.addUser(username: "racer\(learner)", email: "racer\(learner)@example.com") }
        let store = try setup.store()
        // A course per round, so each round's one enrollment shows in the LMS whoever wins it.
        var codes: [CodeRecord] = []
        for round in 0..<20 {
            let course = "course-v1:Race+R\(round)+2026"
            try await setup.sandbox.addCourse(id: course)
            codes += try await store.createCodes(NewCodes(count: 1, courseID: course, mode: "audit", source: "invoice", sourceReference: "race"))
        }
        var winners: [String] = []
        for (round, record) in codes.enumerated() {
            let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for learner in 0..<64 {
                    group.addTask {
                        let response = try await setup.http.execute(HTTPRequest(
                            method: "POST", url: setup.serve.baseURL + "/api/v1/codes/\(record.code.grouped)/redemptions",
                            headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                            body: Array(#"{"email": "racer\#(learner)@example.com"}"#.utf8)))
                        if response.status == 409 {
                            #expect(JSONValue.parse(response.bodyText)?["error"]?.stringValue == "code_spent", "\(response.bodyText)")
                        }
                        return (learner, response.status)
                    }
                }
                var all: [(Int, Int)] = []
                for try await result in group { all.append(result) }
                return all
            }
            let won = statuses.filter { $0.1 == 201 }
            #expect(won.count == 1, "round \(round): \(won.count) learners won")
            #expect(statuses.filter { $0.1 == 409 }.count == 63, "round \(round): \(statuses.map(\.1).sorted())")
            if let winner = won.first { winners.append("enroll racer\(winner.0) \(record.courseID)") }
            let stored = try #require(try await store.code(record.code))
            #expect(stored.state == .redeemed && stored.redemptions.count == 1)
        }
        try await setup.settle()
        let enrolled = summary(await setup.ledger()).sorted()
        #expect(enrolled == winners.sorted(), "one enrollment per code, for its winner")
        #expect(try await store.jobs(JobFilter(kind: .enroll)).count == 20)
        await setup.shutdown()
    }
}
