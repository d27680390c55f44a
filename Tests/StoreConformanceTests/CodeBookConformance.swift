import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `CodeBook`: codes made for a source, redeemed once per learner (one learner per one-time code, however many
/// race for it), voided and revoked.
@Suite struct CodeBookConformance {
    let course = "course-v1:edX+DemoX+2026"

    func seats(_ count: Int, ref: String = "main:727:311", unlimited: Bool = false, price: Decimal = 0) -> NewCodes {
        NewCodes(count: count, courseID: course, mode: "verified", source: "order", sourceReference: ref, unlimited: unlimited,
                 price: price, currency: price > 0 ? "USD" : nil)
    }

    @Test(arguments: Backends.all)
    func codesAreMadeFreshAndListedNewestFirst(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let made = try await store.createCodes(seats(3))
            #expect(made.count == 3 && Set(made.map(\.code)).count == 3)
            #expect(made.allSatisfy { $0.state == .active && $0.courseID == course && $0.mode == "verified" })
            _ = try await store.createCodes(NewCodes(count: 2, courseID: "course-v1:MITx+6.00x+2026", mode: nil, source: "invoice",
                                                     sourceReference: "12"))
            let listed = try await store.codes(CodeFilter())
            #expect(listed.count == 5)
            #expect(Array(listed.suffix(3).map(\.code).reversed()) == made.map(\.code))
            #expect(try await store.codes(CodeFilter(source: "order", sourceReference: "main:727:311")).count == 3)
            #expect(try await store.codes(CodeFilter(courseID: course)).count == 3)
            #expect(try await store.codes(CodeFilter(coursePrefixes: ["course-v1:MITx+"])).count == 2)
            #expect(try await store.codes(CodeFilter(coursePrefixes: [])).isEmpty)
            #expect(try await store.codes(CodeFilter(state: .redeemed)).isEmpty)
            let readBack = try #require(try await store.code(made[0].code))
            #expect(readBack.code == made[0].code && readBack.state == .active && readBack.sourceReference == "main:727:311")
            #expect(abs(readBack.createdAt.timeIntervalSince(made[0].createdAt)) < 0.001)
        }
    }

    @Test(arguments: Backends.all)
    func aOneTimeCodeIsOneLearnersAndTheSameLearnerGetsTheSameRedemption(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let code = try #require(try await store.createCodes(seats(1)).first).code
            guard case .redeemed(let record, let jobID) = try await store.redeem(code, email: "ada@example.com") else {
                Issue.record("not redeemed")
                return
            }
            #expect(record.state == .redeemed && record.redemptions.map(\.email) == ["ada@example.com"])
            let job = try #require(try await store.job(id: jobID))
            #expect(job.kind == .enroll && job.dedupeKey == "code:\(code.value):ada@example.com")
            #expect(job.serialKey == SerialKey.enrollment(email: "ada@example.com", courseID: course))
            let payload = try job.decodePayload(EnrollPayload.self)
            #expect(payload == EnrollPayload(email: "ada@example.com", courseID: course, mode: "verified", orderReference: "main:727:311"))

            guard case .alreadyRedeemed(let again, let againJob) = try await store.redeem(code, email: "ada@example.com") else {
                Issue.record("the same learner again was not the same redemption")
                return
            }
            #expect(again.code == record.code && again.redemptions.map(\.email) == ["ada@example.com"] && againJob == jobID)
            guard case .refused(.spent, _) = try await store.redeem(code, email: "bo@example.com") else {
                Issue.record("a second learner got a spent code")
                return
            }
            #expect(try await store.redeem(try RegistrationCode.parse("0000-0000-0000").get(), email: "ada@example.com") == .unknownCode)
            #expect(try await store.jobs(JobFilter(kind: .enroll)).count == 1)
        }
    }

    @Test(arguments: Backends.all)
    func sixtyFourLearnersRacingForOneCodeMakeOneSeat(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            for round in 0..<20 {
                let code = try #require(try await store.createCodes(seats(1, ref: "race:\(round)")).first).code
                let outcomes = try await withThrowingTaskGroup(of: RedemptionOutcome.self) { group in
                    for learner in 0..<64 { group.addTask { try await store.redeem(code, email: "l\(learner)@example.com") } }
                    return try await group.reduce(into: [RedemptionOutcome]()) { $0.append($1) }
                }
                let won = outcomes.filter { if case .redeemed = $0 { true } else { false } }
                let spent = outcomes.filter { if case .refused(.spent, _) = $0 { true } else { false } }
                #expect(won.count == 1 && spent.count == 63, "round \(round)")
                #expect(try await store.code(code)?.redemptions.count == 1)
            }
            #expect(try await store.jobs(JobFilter(kind: .enroll, limit: 100)).count == 20)
        }
    }

    @Test(arguments: Backends.all)
    func unlimitedAndPricedCodes(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let open = try #require(try await store.createCodes(seats(1, unlimited: true)).first).code
            for learner in ["a@example.com", "b@example.com", "c@example.com"] {
                guard case .redeemed(let record, _) = try await store.redeem(open, email: learner) else {
                    Issue.record("\(learner) not redeemed")
                    return
                }
                #expect(record.state == .active)
            }
            #expect(try await store.code(open)?.redemptions.count == 3)
            let priced = try #require(try await store.createCodes(seats(1, price: 99)).first)
            #expect(priced.price == 99 && priced.currency == "USD")
            guard case .paymentRequired(let shown, let order) = try await store.redeem(priced.code, email: "a@example.com") else {
                Issue.record("a priced code did not ask for payment")
                return
            }
            #expect(shown.code == priced.code && order == nil, "without a checkout nothing is recorded")
            #expect(try await store.code(priced.code)?.redemptions.isEmpty == true)
        }
    }

    @Test(arguments: Backends.all)
    func voidingStopsRedemptionAndRevokingUnenrolls(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let made = try await store.createCodes(seats(2))
            let voided = try await store.voidCodes([made[0].code], reason: "refund of 1 seat", actor: "cli:ops")
            #expect(voided.first?.state == .void && voided.first?.voidReason == "refund of 1 seat" && voided.first?.voidedBy == "cli:ops")
            guard case .refused(.void, _) = try await store.redeem(made[0].code, email: "ada@example.com") else {
                Issue.record("a void code was redeemed")
                return
            }
            // Voiding again keeps the first reason.
            #expect(try await store.voidCodes([made[0].code], reason: "again", actor: "x").first?.voidReason == "refund of 1 seat")

            _ = try await store.redeem(made[1].code, email: "bo@example.com")
            #expect(try await store.revoke(made[1].code, email: "ada@example.com", actor: "cli:ops")
                    == .notRedeemedBy(try #require(try await store.code(made[1].code))))
            guard case .revoked(let record, let job) = try await store.revoke(made[1].code, email: "bo@example.com", actor: "cli:ops") else {
                Issue.record("not revoked")
                return
            }
            #expect(record.state == .void && record.voidReason?.contains("bo@example.com") == true)
            let unenroll = try #require(try await store.job(id: job))
            #expect(unenroll.kind == .unenroll && unenroll.serialKey == SerialKey.enrollment(email: "bo@example.com", courseID: course))
            #expect(try await store.jobDetail(id: job)?.actions.first?.actor == "cli:ops")
        }
    }
}
