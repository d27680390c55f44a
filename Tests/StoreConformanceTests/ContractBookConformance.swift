import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `ContractBook`: contracts and their codes in the store, the sync applied in one commit, and the cap held by
/// the redemption's commit however many learners race for it.
@Suite struct ContractBookConformance {
    func contract(_ store: any RegistrarStorage, cap: Int?, runs: Int = 2) async throws -> Contract {
        let org = try await store.createOrganization(name: "Acme", key: "ACME")
        let made = try await store.createContract(NewContract(organizationID: org.id, name: "A",
                                                              terms: ContractTerms(integration: .nonSSO, maxLearners: cap), createdBy: "test"))
        _ = try await store.addCourseware(made.id, runs: (0..<runs).map {
            ContractRunRequest(courseID: "course-v1:UAI_ACME+C\($0)+2026_C\(made.id)", sourceID: nil)
        }, actor: "test")
        _ = try await store.syncContract(made.id)
        return try #require(try await store.contract(made.id))
    }

    @Test(arguments: Backends.all)
    func aSyncIsOneCommitAndASecondChangesNothing(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let made = try await contract(store, cap: 3)
            #expect(made.runs.map(\.codes.active) == [3, 3])
            let again = try await store.syncContract(made.id)
            #expect(again == ContractSyncOutcome(), "sync twice = sync once")
            // One sync queued at a time: three changes in a row leave one waiting.
            for cap in [4, 5, 6] { _ = try await store.modifyContract(made.id, ContractChanges(maxLearners: .some(cap)), actor: "ops") }
            let queued = try await store.jobs(JobFilter(state: .queued, kind: .contractSync))
            #expect(queued.count == 1)
            #expect(try await store.syncContract(made.id).created == 6, "the newest terms: 3 more per run")
            await #expect(throws: ContractError.self) { try await store.modifyContract(made.id, ContractChanges(maxLearners: .some(-1)), actor: "ops") }
            await #expect(throws: ContractError.unknownContract(99)) { try await store.syncContract(99) }
        }
    }

    @Test(arguments: Backends.all)
    func aRunBelongsToOneContract(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let first = try await contract(store, cap: 1, runs: 1)
            let org = try #require(try await store.organization(named: "Acme"))
            let second = try await store.createContract(NewContract(organizationID: org.id, name: "B",
                                                                    terms: ContractTerms(integration: .sso), createdBy: "test"))
            await #expect(throws: ContractError.runOwned(first.runs[0].courseID, contract: first.id)) {
                try await store.addCourseware(second.id, runs: [ContractRunRequest(courseID: first.runs[0].courseID, sourceID: nil)], actor: "t")
            }
            #expect(try await store.contract(second.id)?.runs.isEmpty == true, "nothing half-made")
            await #expect(throws: ContractError.self) { try await store.createOrganization(name: "Acme", key: "OTHER") }
        }
    }

    /// A run taken out of the contract: its unredeemed codes go with the next sync, its redeemed ones stay, and
    /// what is left of its codes no longer admits anyone.
    @Test(arguments: Backends.all)
    func aRemovedRunsCodesGoAndAdmitNobody(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            // Uncapped: an unlimited code per run, plus an unredeemed one-time code left from a cap.
            let made = try await contract(store, cap: 1, runs: 2)
            _ = try await store.modifyContract(made.id, ContractChanges(maxLearners: .some(nil)), actor: "ops")
            _ = try await store.syncContract(made.id)
            let removed = made.runs[1].courseID
            var codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(made.id))).filter { $0.courseID == removed }
            let open = try #require(codes.first { $0.unlimited })
            guard case .redeemed = try await store.redeem(open.code, email: "kept@example.com") else {
                Issue.record("the unlimited code was not redeemed")
                return
            }
            let runs = try await store.removeCourseware(made.id, courses: [removed], actor: "ops")
            #expect(runs.map(\.attached) == [false])
            _ = try await store.syncContract(made.id)
            codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(made.id))).filter { $0.courseID == removed }
            #expect(codes.filter { $0.redemptions.isEmpty }.allSatisfy { $0.state == .void }, "unredeemed codes of the removed run go")
            #expect(codes.first { $0.code == open.code }?.state == .active, "a redeemed code is never voided")
            guard case .refused(.contractInactive, _) = try await store.redeem(open.code, email: "new@example.com") else {
                Issue.record("a removed run's code admitted someone")
                return
            }
            await #expect(throws: ContractError.self) { try await store.removeCourseware(made.id, courses: ["course-v1:X+Y+Z"], actor: "ops") }
        }
    }

    /// Attached, detached, attached again: enrolled again. Attaching past the cap is refused whole; detaching a
    /// learner who came by a code changes nothing.
    @Test(arguments: Backends.all)
    func attachingFollowsTheCapAndAReattachedLearnerIsEnrolledAgain(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let made = try await contract(store, cap: 2, runs: 1)
            let first = try await store.attach(made.id, emails: ["sam@example.com"], actor: "ops")
            #expect(first.count == 1)
            await #expect(throws: ContractError.full(cap: 2, learners: 1, asked: 2)) {
                try await store.attach(made.id, emails: ["a@example.com", "b@example.com"], actor: "ops")
            }
            #expect(try await store.learners(of: made.id).map(\.email) == ["sam@example.com"], "nothing half-attached")
            #expect(try await store.detach(made.id, emails: ["sam@example.com"], actor: "ops").count == 1)
            clock.advance(1)
            let again = try await store.attach(made.id, emails: ["sam@example.com"], actor: "ops")
            #expect(again.count == 1 && again[0].id != first[0].id && again[0].created, "a new enrollment, not the first one found")
            let codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(made.id)))
            _ = try await store.redeem(codes[0].code, email: "coder@example.com")
            #expect(try await store.detach(made.id, emails: ["coder@example.com"], actor: "ops").isEmpty)
            #expect(Set(try await store.learners(of: made.id).map(\.email)) == ["sam@example.com", "coder@example.com"])
        }
    }

    /// A priced contract: a learner paying holds a place under the cap, and the sync leaves a held code alone.
    @Test(arguments: Backends.all)
    func aSeatBeingPaidForHoldsAPlaceUnderTheCap(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let made = try await contract(store, cap: 1, runs: 2)
            _ = try await store.modifyContract(made.id, ContractChanges(price: .some(49), currency: "USD"), actor: "ops")
            _ = try await store.syncContract(made.id)
            let codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(made.id)))
            let checkout = CodeCheckout(profileID: "p1", hold: 1800)
            guard case .paymentRequired(_, let order?) = try await store.redeem(codes[0].code, email: "ann@example.com", checkout: checkout) else {
                Issue.record("no order for the priced contract code")
                return
            }
            guard case .refused(.contractFull, _) = try await store.redeem(codes[1].code, email: "bo@example.com", checkout: checkout) else {
                Issue.record("a second learner got a place the first is paying for")
                return
            }
            // The cap lowered to 0: the held code is not voided.
            _ = try await store.modifyContract(made.id, ContractChanges(maxLearners: .some(0)), actor: "ops")
            _ = try await store.syncContract(made.id)
            #expect(try await store.code(codes[0].code)?.state == .active)
            _ = try await store.applyPayment(
                VerifiedCallback(profileID: "p1", referenceNumber: order.reference, transactionID: "T1", currency: "USD", decision: .accept,
                                 requestAmount: 49, authAmount: 49, signedDateTime: Date()),
                delivery: NewDelivery(source: "cybersource", body: [], verdict: "", httpStatus: 200))
            #expect(try await store.code(codes[0].code)?.redemptions.map(\.email) == ["ann@example.com"])
        }
    }

    /// A contract capped at 5 with two runs has 10 codes: 10 learners, each on a code of their own, race for
    /// them at once. The codes would let all 10 in; the cap lets exactly 5.
    @Test(arguments: Backends.all)
    func theCapHoldsUnderARace(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let made = try await contract(store, cap: 5, runs: 2)
            let codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(made.id)))
            #expect(codes.count == 10)
            let outcomes = try await withThrowingTaskGroup(of: RedemptionOutcome.self) { group in
                for (learner, code) in codes.enumerated() {
                    group.addTask { try await store.redeem(code.code, email: "l\(learner)@example.com") }
                }
                return try await group.reduce(into: [RedemptionOutcome]()) { $0.append($1) }
            }
            let won = outcomes.filter { if case .redeemed = $0 { return true } else { return false } }.count
            let full = outcomes.filter { if case .refused(.contractFull, _) = $0 { return true } else { return false } }.count
            #expect(won == 5 && full == 5, "\(outcomes)")
            #expect(try await store.learners(of: made.id).count == 5)
            #expect(try await store.jobs(JobFilter(kind: .enroll)).count == 5)
        }
    }
}
