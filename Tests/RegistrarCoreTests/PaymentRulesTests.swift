import Foundation
import RegistrarCore
import Testing

@Suite struct PaymentRulesTests {
    let order = OrderSnapshot(reference: "R-1", email: "ann@example.com", currency: "USD", total: 49,
                              items: OrderFulfilment.plan([OrderItem(courseID: "course-v1:A+B+C", mode: "verified", quantity: 1, unitPrice: "49.00"),
                                                           OrderItem(courseID: "course-v1:A+B+D", quantity: 3, unitPrice: "0.00")]),
                              status: .pending)

    func callback(_ decision: CallbackDecision, transaction: String = "T1", amount: Decimal = 49, auth: Decimal? = 49,
                  currency: String = "usd") -> VerifiedCallback {
        VerifiedCallback(profileID: "0000001", referenceNumber: "R-1", transactionID: transaction, currency: currency,
                         decision: decision, requestAmount: amount, authAmount: decision == .accept ? auth : nil, reasonCode: nil,
                         message: nil, maskedCard: nil, signedDateTime: Date(), fields: [:])
    }

    @Test func aMatchingAcceptPaysAndFulfils() {
        let decision = PaymentRules.decide(callback(.accept), order: order, knownTransactions: [])
        #expect(decision.outcome == .paid && decision.httpStatus == 200 && decision.newStatus == .paid)
        #expect(decision.fulfil && decision.recordsTransaction && decision.attention == nil)
    }

    @Test func theSameTransactionAgainChangesNothing() {
        var paid = order
        paid.status = .paid
        let decision = PaymentRules.decide(callback(.accept), order: paid, knownTransactions: ["T1"])
        #expect(decision.outcome == .duplicateCallback && decision.httpStatus == 200)
        #expect(!decision.fulfil && decision.newStatus == nil && decision.attention == nil)
    }

    @Test func aSecondTransactionForAPaidOrderIsFlaggedNotFulfilled() {
        var paid = order
        paid.status = .paid
        paid.transactionID = "T1"
        let decision = PaymentRules.decide(callback(.accept, transaction: "T2"), order: paid, knownTransactions: ["T1"])
        #expect(decision.outcome == .duplicatePayment && decision.attention == .duplicatePayment && !decision.fulfil)
        #expect(decision.message.contains("T2"))
    }

    @Test func amountOrCurrencyMismatchIs422AndNotFulfilled() {
        for wrong in [callback(.accept, amount: 4.9, auth: 4.9), callback(.accept, auth: 40), callback(.accept, currency: "eur")] {
            let decision = PaymentRules.decide(wrong, order: order, knownTransactions: [])
            #expect(decision.outcome == .amountMismatch && decision.httpStatus == 422 && !decision.fulfil)
            #expect(decision.attention == .amountMismatch && decision.newStatus == nil)
        }
    }

    @Test func reviewHoldsTheOrder() {
        let decision = PaymentRules.decide(callback(.review), order: order, knownTransactions: [])
        #expect(decision.outcome == .review && decision.newStatus == .inReview && decision.attention == .review && !decision.fulfil)
    }

    @Test func declinesAreRecordedAndNeverUndoAPayment() {
        #expect(PaymentRules.decide(callback(.decline, transaction: "T9"), order: order, knownTransactions: []).newStatus == .declined)
        #expect(PaymentRules.decide(callback(.cancel, transaction: "T9"), order: order, knownTransactions: []).newStatus == .cancelled)
        #expect(PaymentRules.decide(callback(.error, transaction: "T9"), order: order, knownTransactions: []).newStatus == .error)
        var paid = order
        paid.status = .paid
        let late = PaymentRules.decide(callback(.decline, transaction: "T9"), order: paid, knownTransactions: ["T1"])
        #expect(late.outcome == .declined && late.newStatus == nil && !late.fulfil)
    }

    @Test func onlySingleSeatItemsEnrollTheBuyer() throws {
        let jobs = try OrderFulfilment.jobs(for: order, source: "test")
        #expect(jobs.count == 1)
        #expect(jobs[0].dedupeKey == "order:R-1:0:enroll" && jobs[0].serialKey == "ann@example.com|course-v1:A+B+C")
        #expect(order.items.map(\.fulfilment) == ["enroll", "codes"])
    }
}
