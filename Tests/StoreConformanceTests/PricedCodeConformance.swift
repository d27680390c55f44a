import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Synchronization
import Testing

/// A code with a price: the redemption makes an order and holds the seat for the learner in one commit; the
/// ACCEPT completes the redemption with its enrollment; a DECLINE, a rejected review or a lapsed hold gives
/// the seat back; a payment for a seat someone else took meanwhile is flagged, never a second seat.
@Suite struct PricedCodeConformance {
    let course = "course-v1:edX+DemoX+2026"

    /// Priced codes come with contracts; the hold works the same whatever the source, and a contract's own gate
    /// (cap, dates) is ContractBook's, so these are codes of no contract.
    func pricedCode(_ store: any RegistrarStorage, unlimited: Bool = false) async throws -> RegistrationCode {
        try #require(try await store.createCodes(NewCodes(count: 1, courseID: course, mode: "verified", source: "invoice",
                                                          sourceReference: "7", unlimited: unlimited, price: 49, currency: "USD")).first).code
    }

    func checkout(_ references: [String]) -> CodeCheckout {
        let next = Counter(references)
        return CodeCheckout(profileID: "p1", hold: 30 * 60, createdBy: "shop", newReference: { next.take() })
    }

    func pay(_ store: any RegistrarStorage, _ reference: String, _ decision: CallbackDecision = .accept,
             transaction: String = "T1") async throws -> AppliedPayment {
        try await store.applyPayment(
            VerifiedCallback(profileID: "p1", referenceNumber: reference, transactionID: transaction, currency: "USD",
                             decision: decision, requestAmount: 49, authAmount: decision == .accept ? 49 : nil, signedDateTime: Date()),
            delivery: NewDelivery(source: "cybersource", body: Array("decision=\(decision.rawValue)".utf8), verdict: "", httpStatus: 200))
    }

    func heldOrder(_ outcome: RedemptionOutcome) -> Order? {
        if case .paymentRequired(_, let order) = outcome { return order }
        return nil
    }

    @Test(arguments: Backends.all)
    func aPricedCodesSeatIsHeldWhileTheLearnerPaysAndTheAcceptRedeemsIt(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let code = try await pricedCode(store)
            let pay1 = checkout(["RG-A1", "RG-A2", "RG-A3"])
            let order = try #require(heldOrder(try await store.redeem(code, email: "ann@example.com", checkout: pay1)))
            #expect(order.reference == "RG-A1" && order.email == "ann@example.com" && order.total == "49.00" && order.currency == "USD")
            #expect(order.items == [OrderFulfilment.codeItem(courseID: course, mode: "verified", price: 49)])
            #expect(order.status == .pending && order.createdBy == "shop")
            // Asking again: the same order, not a second one; another learner: the seat is taken.
            #expect(heldOrder(try await store.redeem(code, email: "ann@example.com", checkout: pay1))?.reference == "RG-A1")
            guard case .refused(.spent, _) = try await store.redeem(code, email: "bo@example.com", checkout: pay1) else {
                Issue.record("another learner got a held seat")
                return
            }
            #expect(try await store.code(code)?.redemptions.isEmpty == true)
            #expect(try await store.jobs(JobFilter(kind: .enroll)).isEmpty)

            let paid = try await pay(store, "RG-A1")
            #expect(paid.jobs.count == 1, "the enroll job of the redemption, in the payment's commit")
            let record = try #require(try await store.code(code))
            #expect(record.state == .redeemed && record.redemptions.map(\.email) == ["ann@example.com"])
            let enroll = try #require(try await store.jobs(JobFilter(kind: .enroll)).first)
            #expect(enroll.dedupeKey == RedemptionRules.enrollKey(code: code, email: "ann@example.com"))
            #expect(try enroll.decodePayload(EnrollPayload.self) == EnrollPayload(email: "ann@example.com", courseID: course, mode: "verified",
                                                                                   orderReference: "RG-A1"))
            // The same ACCEPT again changes nothing; the learner asking again has the seat.
            _ = try await pay(store, "RG-A1")
            #expect(try await store.jobs(JobFilter(kind: .enroll)).count == 1)
            guard case .alreadyRedeemed = try await store.redeem(code, email: "ann@example.com", checkout: pay1) else {
                Issue.record("the payer is not redeemed")
                return
            }
        }
    }

    @Test(arguments: Backends.all)
    func aDeclineOrALapsedHoldGivesTheSeatBackAndALatePaymentForATakenSeatIsFlagged(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let code = try await pricedCode(store)
            let pay = checkout(["RG-B1", "RG-B2", "RG-B3", "RG-B4"])
            _ = try #require(heldOrder(try await store.redeem(code, email: "ann@example.com", checkout: pay)))
            _ = try await self.pay(store, "RG-B1", .decline)
            #expect(try await store.order(reference: "RG-B1")?.status == .declined)
            // Declined: the seat is free at once.
            let second = try #require(heldOrder(try await store.redeem(code, email: "bo@example.com", checkout: pay)))
            #expect(second.reference == "RG-B2")

            // Bo never pays: after the hold, Cy may hold it.
            clock.advance(30 * 60 + 1)
            let third = try #require(heldOrder(try await store.redeem(code, email: "cy@example.com", checkout: pay)))
            #expect(third.reference == "RG-B3")
            _ = try await self.pay(store, "RG-B3", transaction: "T3")
            // Bo pays at last: the seat is Cy's. The order is flagged, nobody gets a second seat.
            let late = try await self.pay(store, "RG-B2", transaction: "T2")
            #expect(late.jobs.isEmpty)
            #expect(try await store.order(reference: "RG-B2")?.attention == .codeUnavailable)
            #expect(try await store.orders(attentionOnly: true).map(\.reference) == ["RG-B2"])
            #expect(try await store.code(code)?.redemptions.map(\.email) == ["cy@example.com"])
            #expect(try await store.jobs(JobFilter(kind: .enroll)).count == 1)
        }
    }

    @Test(arguments: Backends.all)
    func aLatePaymentForASeatStillFreeGetsIt(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let code = try await pricedCode(store)
            _ = try #require(heldOrder(try await store.redeem(code, email: "ann@example.com", checkout: checkout(["RG-C1"]))))
            clock.advance(2 * 3600)
            #expect(try await pay(store, "RG-C1").jobs.count == 1, "paid is paid: the seat was still free")
            #expect(try await store.code(code)?.state == .redeemed)
        }
    }

    /// An unlimited priced code (a contract's): every learner pays for their own seat, each held separately.
    @Test(arguments: Backends.all)
    func anUnlimitedPricedCodeHoldsASeatPerLearner(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let code = try await pricedCode(store, unlimited: true)
            let pay = checkout(["RG-D1", "RG-D2"])
            #expect(heldOrder(try await store.redeem(code, email: "ann@example.com", checkout: pay))?.reference == "RG-D1")
            #expect(heldOrder(try await store.redeem(code, email: "bo@example.com", checkout: pay))?.reference == "RG-D2")
            _ = try await self.pay(store, "RG-D2", transaction: "T2")
            _ = try await self.pay(store, "RG-D1", transaction: "T1")
            let record = try #require(try await store.code(code))
            #expect(record.state == .active && Set(record.redemptions.map(\.email)) == ["ann@example.com", "bo@example.com"])
        }
    }
}

/// Hands out the given references in turn (a test's stand-in for random ones).
final class Counter: Sendable {
    private let state: Mutex<[String]>
    init(_ values: [String]) { state = Mutex(values) }
    func take() -> String { state.withLock { $0.isEmpty ? "RG-EXTRA" : $0.removeFirst() } }
}
