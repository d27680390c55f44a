import Foundation
import RegistrarCore
import Testing

/// `SeatLine`: a seat line's seats after its refunds, the mail of new codes, and what bringing its codes in line
/// said, as both backends record it.
@Suite struct SeatLineTests {
    let grant = SeatGrant(store: "main", orderID: 727, orderNumber: "727", lineID: 311, courseID: "course-v1:edX+DemoX+2026",
                          mode: "verified", seats: 5, buyerEmail: "buyer@example.com")

    let codes = (0..<5).map { _ in RegistrationCode.generate() }
    func code(_ n: Int) -> RegistrationCode { codes[n] }

    @Test func aStoreLineHoldsItsSeatsLessTheRefundedOnesAndSaysWhy() {
        let kept = SeatLine(grant, refunded: 0)
        #expect(kept.seats == 5 && kept.voidReason == "order 727 now has 5 seats on line 311" && kept.actor == "woocommerce:main")
        let partial = SeatLine(grant, refunded: 2)
        #expect(partial.seats == 3 && partial.voidReason == "order 727: 2 of the 5 seats of line 311 refunded")
        var refunded = grant
        refunded.seats = 0
        #expect(SeatLine(refunded, refunded: 7).seats == 0 && SeatLine(refunded, refunded: 7).voidReason == "order 727 refunded")
        #expect(kept.sourceReference == "main:727:311" && kept.mailKey(5) == WooKeys.seatCodes(store: "main", order: 727, line: 311, liveAfter: 5))
    }

    @Test func theBuyersMailListsTheNewCodesUnderTheLinesKey() throws {
        let line = SeatLine(grant, refunded: 0)
        let job = line.mailJob(to: "buyer@example.com", made: [code(2), code(3)], liveAfter: 5)
        #expect(job.kind == .mail && job.dedupeKey == line.mailKey(5) && job.source == "woocommerce:main")
        let mail = try JSONDecoder().decode(CodesMailPayload.self, from: Data(job.payload.utf8))
        #expect(mail.to == "buyer@example.com" && mail.codes == [code(2).grouped, code(3).grouped])
    }

    @Test func theReportNamesWhatWasMadeVoidedAndWhatCouldNotBe() {
        let line = SeatLine(grant, refunded: 0)
        let made = line.report(plan: SeatRules.Plan(create: 2, void: [], redeemedBeyond: []), made: 2, liveBefore: 3)
        #expect(made.notes == ["line 311 (course-v1:edX+DemoX+2026): 2 codes for the buyer to hand out (5 in all)"] && made.shortfall == nil)
        var noEmail = line
        noEmail.buyerEmail = nil
        #expect(noEmail.report(plan: SeatRules.Plan(create: 1, void: [], redeemedBeyond: []), made: 1, liveBefore: 0).notes.last
                == "line 311 (course-v1:edX+DemoX+2026): the order has no billing email, so its codes are only in `registrar codes list --order main:727:311`")
        let short = line.report(plan: SeatRules.Plan(create: 0, void: [code(4)],
                                                     redeemedBeyond: [SeatRules.LiveCode(id: 1, code: code(1), redeemedBy: ["ann@example.com"])]),
                                made: 0, liveBefore: 3)
        #expect(short.notes.first == "line 311 (course-v1:edX+DemoX+2026): 1 unredeemed code voided (order 727 now has 5 seats on line 311)")
        #expect(short.notes.last?.hasPrefix("refund_exceeds_unredeemed_seats: line 311 (course-v1:edX+DemoX+2026) gave back 1 more seat") == true)
        // The flag names the code whole, for the operator; the note, which is logged, only its end.
        #expect(short.shortfall?.contains(code(1).grouped) == true && short.notes.last?.contains(code(1).grouped) == false)
    }

    @Test func saleLinesAreGroupedByTheirOrderInTheOrderGiven() {
        func sale(_ source: SaleLine.Source, _ order: String, _ line: Int) -> SaleLine {
            SaleLine(source: source, orderRef: order, line: line, courseID: "c", email: "e@example.com", quantity: 1, fulfilment: .single,
                     gross: 10, currency: "USD", paidAt: Date(timeIntervalSince1970: 0))
        }
        let lines = [sale(.woocommerce, "main:1", 1), sale(.cybersource, "main:1", 1), sale(.woocommerce, "main:1", 2), sale(.woocommerce, "main:2", 1)]
        #expect(SaleLine.byOrder(lines).map { $0.map(\.line) } == [[1, 2], [1], [1]])
        #expect(SaleLine.byOrder(lines).map { $0[0].source } == [.woocommerce, .cybersource, .woocommerce])
        #expect(SaleLine.byOrder([]).isEmpty)
    }
}
