import Foundation
import RegistrarCore
import TestSupport
import Testing

/// The report arithmetic: refunds spread over lines, gateway refunds' verdicts, seats, the audit, revenue and
/// reconciliation, over plain values.
@Suite struct ReportsTests {
    static let day = Date(timeIntervalSince1970: 1_764_547_200) // 2025-12-01

    static func line(_ ref: String, _ line: Int = 0, course: String = "course-v1:X+A+1", email: String = "a@example.com",
                     quantity: Int = 1, fulfilment: SaleLine.Fulfilment = .single, gross: Decimal = 49, discount: Decimal = 0,
                     source: SaleLine.Source = .cybersource, currency: String = "USD", at: Date = day) -> SaleLine {
        SaleLine(source: source, orderRef: ref, line: line, courseID: course, email: email, quantity: quantity, fulfilment: fulfilment,
                 gross: gross, discount: discount, currency: currency, paidAt: at, enrollKey: fulfilment == .single ? "\(ref):\(line):enroll" : nil)
    }

    static func refund(_ ref: String, _ amount: Decimal, line: Int? = nil, reference: String? = nil, origin: RefundRecord.Origin = .gateway,
                       source: SaleLine.Source = .cybersource, at: Date = day) -> RefundRecord {
        RefundRecord(origin: origin, orderSource: source, orderRef: ref, line: line, amount: amount, currency: "USD", reference: reference, at: at)
    }

    // MARK: Refund allocation

    @Test func anOrderRefundIsSpreadByWhatEachLinePaidToTheCent() {
        let lines = [Self.line("R", 0, gross: 10), Self.line("R", 1, course: "course-v1:X+B+1", gross: 20)]
        let shares = RefundAllocation.shares(lines: lines, refunds: [Self.refund("R", 10)])
        #expect(shares.map(\.amount) == [Decimal(string: "3.33")!, Decimal(string: "6.67")!])
        #expect(shares.map(\.courseID) == ["course-v1:X+A+1", "course-v1:X+B+1"])
        #expect(RefundAllocation.shares(lines: lines, refunds: [Self.refund("R", 5, line: 1)]).map(\.amount) == [5])
        #expect(RefundAllocation.shares(lines: lines, refunds: [Self.refund("other", 5)]).isEmpty)
        #expect(RefundAllocation.shares(lines: lines, refunds: [Self.refund("R", 5, line: 7)]).isEmpty)
    }

    @Test func sharesAlwaysAddUpToTheRefundAndNeverGoNegative() {
        var random = SeededRandom(seed: 18)
        for _ in 0..<500 {
            let count = Int.random(in: 1...5, using: &random)
            let lines = (0..<count).map { Self.line("R", $0, gross: Decimal(Int.random(in: 0...50_000, using: &random)) / 100) }
            let paid = lines.reduce(Decimal(0)) { $0 + $1.net }
            let amount = paid == 0 ? Decimal(1) : Decimal(Int.random(in: 1...max(1, NSDecimalNumber(decimal: paid * 100).intValue), using: &random)) / 100
            let shares = RefundAllocation.shares(lines: lines, refunds: [Self.refund("R", amount)])
            #expect(shares.reduce(Decimal(0)) { $0 + $1.amount } == amount)
            #expect(shares.allSatisfy { $0.amount > 0 })
            if paid > 0 { #expect(shares.allSatisfy { share in share.amount <= lines.first { $0.key == share.line }!.net }) }
        }
    }

    @Test func aLineIsGivenBackWholeOnlyWhenEverythingPaidForItIsRefunded() {
        let lines = [Self.line("R", 0, gross: 49), Self.line("R", 1, gross: 0), Self.line("R", 2, gross: 30, discount: 10)]
        #expect(RefundAllocation.whollyRefunded(lines: lines, refunds: [Self.refund("R", 48.99, line: 0)]).isEmpty)
        #expect(RefundAllocation.whollyRefunded(lines: lines, refunds: [Self.refund("R", 49, line: 0)]) == [lines[0].key])
        // The free line goes with the order, once every paid line is back.
        #expect(RefundAllocation.whollyRefunded(lines: lines, refunds: [Self.refund("R", 69)]) == Set(lines.map(\.key)))
        #expect(RefundAllocation.whollyRefunded(lines: lines, refunds: [Self.refund("R", 49, line: 0), Self.refund("R", 20, line: 2)])
                == Set(lines.map(\.key)))
        #expect(RefundAllocation.whollyRefunded(lines: lines, refunds: []).isEmpty)
    }

    @Test func anOrderRefundAfterALineRefundGoesToWhatIsLeftAndNoShareIsNegative() {
        let lines = [Self.line("R", 0, gross: 60), Self.line("R", 1, gross: 40)]
        let refunds = [Self.refund("R", 60, line: 0), Self.refund("R", 40)]
        #expect(RefundAllocation.shares(lines: lines, refunds: refunds).map(\.amount) == [60, 40])
        #expect(RefundAllocation.whollyRefunded(lines: lines, refunds: refunds) == Set(lines.map(\.key)))
        let four = (0..<4).map { Self.line("Q", $0, gross: 1) }
        let tiny = RefundAllocation.shares(lines: four, refunds: [Self.refund("Q", 0.02)])
        #expect(tiny.map(\.amount) == [0.01, 0.01] && tiny.map(\.line.line) == [0, 1])
        // A store's refund beyond its course line (tax, another item) is not all the course's.
        let store = [Self.line("W", 501, gross: 49, source: .woocommerce),
                     SaleLine(source: .woocommerce, orderRef: "W", line: 0, courseID: "", email: "a@example.com", quantity: 0, fulfilment: .other,
                              gross: 100, currency: "USD", paidAt: Self.day)]
        let shirt = [Self.refund("W", 100, origin: .woocommerce, source: .woocommerce)]
        #expect(RefundAllocation.whollyRefunded(lines: store, refunds: shirt).isEmpty)
        let revenue = RevenueReport.compute(lines: store, refunds: shirt, invoices: [], courseID: nil, period: .init())
        #expect(revenue.rows.map(\.courseID) == ["course-v1:X+A+1"] && revenue.rows[0].refunds == Decimal(string: "32.89")!,
                "49/149 of 100, to the cent: \(revenue.rows)")
    }

    @Test func aRefundOfADuplicatePaymentGivesBackNoSeat() {
        let lines = [Self.line("D", 0, gross: 49)]
        func decide(_ refund: GatewayRefund, earlier: [RefundRecord] = []) -> GatewayRefundRules.Verdict {
            GatewayRefundRules.decide(refund, orderCurrency: "USD", orderStatus: "paid", lines: lines, refunds: earlier, taken: 98, at: Self.day)
        }
        guard case .record(let surplus, let none) = decide(GatewayRefund(orderRef: "D", amount: 49, reference: "C1")) else {
            Issue.record("the duplicate's refund is recorded")
            return
        }
        #expect(surplus.surplus && none.isEmpty)
        guard case .refused(let reason) = decide(GatewayRefund(orderRef: "D", amount: 60)) else { Issue.record("straddles"); return }
        #expect(reason.contains("49.00 USD more than its amount (a duplicate payment)"), "\(reason)")
        guard case .record(let seat, let back) = decide(GatewayRefund(orderRef: "D", amount: 49, reference: "C2"), earlier: [surplus]) else {
            Issue.record("then the seat")
            return
        }
        #expect(!seat.surplus && back.map(\.line) == [0])
        guard case .record(_, let line) = decide(GatewayRefund(orderRef: "D", amount: 49, line: 0)) else { Issue.record("a named line"); return }
        #expect(line.map(\.line) == [0], "naming the line refunds the seat, duplicate or not")
        #expect(RefundAllocation.shares(lines: lines, refunds: [surplus]).isEmpty)
        guard case .refused(let over) = GatewayRefundRules.decide(GatewayRefund(orderRef: "D", amount: 10, line: 0), orderCurrency: "USD",
                                                                   orderStatus: "paid", lines: lines, refunds: [Self.refund("D", 45)],
                                                                   taken: 49, at: Self.day) else { Issue.record("order cap"); return }
        #expect(over.contains("more than the 4.00 USD of line 0"), "\(over)")
    }

    // MARK: Gateway refunds

    @Test func aGatewayRefundIsCheckedAgainstTheOrderAndRecordedOnce() {
        let lines = [Self.line("R", 0, gross: 49), Self.line("R", 1, quantity: 3, fulfilment: .codes, gross: 90)]
        func decide(_ refund: GatewayRefund, status: String = "paid", earlier: [RefundRecord] = []) -> GatewayRefundRules.Verdict {
            GatewayRefundRules.decide(refund, orderCurrency: "USD", orderStatus: status, lines: lines, refunds: earlier, taken: 139, at: Self.day)
        }
        guard case .record(let record, let back) = decide(GatewayRefund(orderRef: "R", amount: 49, line: 0, reference: "G1")) else {
            Issue.record("a whole line's refund is recorded")
            return
        }
        #expect(record.amount == 49 && record.line == 0 && record.reference == "G1" && record.currency == "USD")
        #expect(back.map(\.line) == [0])
        guard case .record(_, let partial) = decide(GatewayRefund(orderRef: "R", amount: 20, line: 1)) else { Issue.record("partial"); return }
        #expect(partial.isEmpty)
        guard case .record(_, let all) = decide(GatewayRefund(orderRef: "R", amount: 139)) else { Issue.record("whole order"); return }
        #expect(all.map(\.line) == [0, 1])
        #expect(decide(GatewayRefund(orderRef: "R", amount: 49, line: 0, reference: "G1"), earlier: [record]) == .alreadyRecorded(record))
        for (refund, status, earlier, words) in [
            (GatewayRefund(orderRef: "R", amount: 50, line: 0), "paid", [RefundRecord](), "more than the 49.00 USD of line 0"),
            (GatewayRefund(orderRef: "R", amount: 100), "paid", [record], "more than the 90.00 USD of order R"),
            (GatewayRefund(orderRef: "R", amount: 0), "paid", [], "more than 0"),
            (GatewayRefund(orderRef: "R", amount: 5, currency: "EUR"), "paid", [], "paid in USD, not EUR"),
            (GatewayRefund(orderRef: "R", amount: 5, line: 4), "paid", [], "has no line 4"),
            (GatewayRefund(orderRef: "R", amount: 5), "declined", [], "is declined: only a paid order"),
            (GatewayRefund(orderRef: "R", amount: 5, line: 0, reference: "G1"), "paid", [record], "already recorded as 49.00 USD on line 0"),
        ] {
            guard case .refused(let reason) = decide(refund, status: status, earlier: earlier) else {
                Issue.record("\(refund) should be refused")
                continue
            }
            #expect(reason.contains(words), "\(reason)")
        }
    }

    // MARK: Seats

    @Test func seatsSoldArePaidSingleSeatsPlusStandingCodes() {
        let lines = [Self.line("A"), Self.line("B", email: "staff@example.com"), Self.line("C"),
                     Self.line("D", quantity: 3, fulfilment: .codes, gross: 147), Self.line("E", course: "course-v1:X+Other+1")]
        let codes: [SeatsReport.CodeFact] = [
            .init(origin: .multiSeat, state: "redeemed", redeemedBy: ["l1@example.com"]),
            .init(origin: .multiSeat, state: "active"),
            .init(origin: .multiSeat, state: "void"),
            .init(origin: .invoice, state: "redeemed", redeemedBy: ["staff@example.com"]),
            .init(origin: .contract, state: "active", redeemedBy: ["l2@example.com", "l3@example.com"]),
        ]
        let report = SeatsReport.compute(courseID: "course-v1:X+A+1", lines: lines, refunds: [Self.refund("C", 49)], codes: codes,
                                         staff: ["staff@example.com"])
        #expect(report.paidSingleSeats == 2)
        #expect(report.codesGenerated == [.multiSeat: 2, .invoice: 1, .contract: 1])
        #expect(report.codesRedeemed == 3 && report.codesUnredeemed == 1 && report.codesVoid == 1)
        #expect(report.seatsSold == 6)
        #expect(report.seatsSoldWithoutStaff == 4)
        #expect(report.json["codes_generated"]?["multi_seat"] == .number(2))
        #expect(report.csv == "course_id,paid_single_seats,codes_multi_seat,codes_invoice,codes_contract,codes_redeemed,codes_unredeemed,codes_void,seats_sold,seats_sold_without_staff\r\ncourse-v1:X+A+1,2,2,1,1,3,1,1,6,4\r\n")
    }

    // MARK: Audit

    @Test func everyActiveEnrollmentHasOneCauseInTheReportsOrder() {
        let course = "course-v1:X+A+1"
        let job = EnrollmentAudit.JobRef(id: 7, state: "failed", error: "LMS said 500")
        let grants: [EnrollmentAudit.Grant] = [
            .init(kind: .paidSeat, email: "paid@example.com", reference: "order P"),
            .init(kind: .paidSeat, email: "staff@example.com", reference: "order S"),
            .init(kind: .code, email: "paid@example.com", reference: "code 1"),
            .init(kind: .code, email: "coder@example.com", reference: "code 2"),
            .init(kind: .contract, email: "b2b@example.com", reference: "contract 1"),
            .init(kind: .manual, email: "hand@example.com", reference: "job 3"),
            .init(kind: .paidSeat, email: "failed@example.com", reference: "order F", job: job),
            .init(kind: .paidSeat, email: "refunded@example.com", reference: "order R", refunded: true),
            .init(kind: .paidSeat, email: "gone@example.com", reference: "order G", refunded: true),
        ]
        let enrollments: [EnrollmentAudit.Enrollment] = [
            .init(username: "paid", email: "PAID@example.com", isActive: true),
            .init(username: "staff", email: "staff@example.com", isActive: true),
            .init(username: "coder", email: "coder@example.com", isActive: true),
            .init(username: "b2b", email: "b2b@example.com", isActive: true),
            .init(username: "hand", email: "hand@example.com", isActive: true),
            .init(username: "direct", email: "direct@example.com", isActive: true),
            .init(username: "refunded", email: "refunded@example.com", isActive: true),
            .init(username: "nobody", email: nil, isActive: true),
            .init(username: "gone", email: "gone@example.com", isActive: false),
        ]
        let audit = EnrollmentAudit.compute(courseID: course, enrollments: enrollments, grants: grants, staff: ["staff@example.com"])
        #expect(audit.active == 8 && audit.inactive == 1)
        #expect(audit.byCause == [.staff: 1, .paidSeat: 1, .code: 1, .contract: 1, .manual: 1, .unexplained: 3])
        #expect(audit.balances)
        #expect(audit.equation == "8 active enrollments = 1 course staff + 1 paid single seats + 1 redeemed codes + 1 contract learners + 1 manually enrolled + 3 unexplained")
        #expect(audit.enrolledWithoutPayment.map(\.username) == ["direct", "refunded", "nobody"])
        #expect(audit.paidWithoutEnrollment.map(\.email) == ["failed@example.com"])
        #expect(audit.paidWithoutEnrollment.first?.job == job)
        #expect(audit.refundedButEnrolled.map(\.email) == ["refunded@example.com"])
    }

    @Test func auditGrantsComeFromPaidLinesCodesContractsAndManualJobs() {
        let course = "course-v1:X+A+1"
        let lines = [Self.line("P", email: "p@example.com"), Self.line("Q", email: "q@example.com"),
                     Self.line("C", quantity: 2, fulfilment: .codes, gross: 98), Self.line("O", course: "course-v1:X+B+1")]
        let facts = EnrollmentAudit.Facts(lines: lines, refunds: [Self.refund("Q", 49)],
                                          enrollJobs: ["P:0:enroll": .init(id: 1, state: "succeeded")],
                                          redemptions: [.init(email: "c@example.com", code: "ABCD…", job: nil)],
                                          contractLearners: [(email: "k@example.com", contractID: 4)],
                                          manual: [(email: "m@example.com", job: .init(id: 9, state: "succeeded"))])
        let grants = EnrollmentAudit.grants(courseID: course, facts: facts)
        #expect(grants.map(\.kind) == [.paidSeat, .paidSeat, .code, .contract, .manual])
        #expect(grants.map(\.refunded) == [false, true, false, false, false])
        #expect(grants[0].job?.id == 1)
    }

    // MARK: Revenue

    @Test func netIsMoneyReceivedLessMoneyReturned() {
        let course = "course-v1:X+A+1"
        let later = Self.day.addingTimeInterval(40 * 86_400)
        let lines = [Self.line("A", gross: 49), Self.line("B", gross: 49, discount: 9.80),
                     Self.line("C", quantity: 3, fulfilment: .codes, gross: 147), Self.line("D", gross: 49, currency: "EUR"),
                     Self.line("E", gross: 49, at: later)]
        let invoices = [RevenueReport.InvoiceFact(courseID: course, currency: "USD", total: 500, createdAt: Self.day, voided: false,
                                                  transactions: [(amount: 300, at: Self.day), (amount: -50, at: Self.day)]),
                        RevenueReport.InvoiceFact(courseID: course, currency: "USD", total: 99, createdAt: Self.day, voided: true, transactions: [])]
        let report = RevenueReport.compute(lines: lines, refunds: [Self.refund("A", 49)], invoices: invoices, courseID: course,
                                           period: RevenueReport.Period(from: Self.day, to: Self.day.addingTimeInterval(86_400)))
        #expect(report.rows.map(\.currency) == ["EUR", "USD"])
        let usd = report.rows[1]
        #expect(usd.singleSeatGross == 98 && usd.multiSeatGross == 147 && usd.discounts == Decimal(string: "9.8")!)
        #expect(usd.invoicesBilled == 500 && usd.invoicesPaid == 300 && usd.refunds == 99)
        #expect(usd.net == Decimal(string: "436.2")!, "98 + 147 - 9.80 + 300 - (49 + 50)")
        #expect(report.json.arrayValue?.last?["net"] == .string("436.20"))
        let all = RevenueReport.compute(lines: lines, refunds: [], invoices: [], courseID: nil, period: RevenueReport.Period())
        #expect(all.rows.first { $0.currency == "USD" }?.singleSeatGross == 147)
        #expect(RevenueReport.compute(lines: lines, refunds: [], invoices: [], courseID: "nope", period: .init()).rows.isEmpty)
    }

    // MARK: Reconciliation

    @Test func theGatewaysReportSortsIntoFiveLists() throws {
        let csv = "Payment Batch Detail Report,1.0,2025-12-01 to 2025-12-01,,,,,,,\r\n"
            + "batch_id,merchant_id,batch_date,request_id,merchant_ref_number,trans_ref_no,payment_method,currency,amount,transaction_type\r\n"
            + "1,M,2025-12-01,T1,R-1,x,Visa,USD,49.00,ics_bill\r\n"
            + "1,M,2025-12-01,T2,R-2,x,Visa,USD,59.00,ics_bill\r\n"
            + "1,M,2025-12-01,T9,R-9,x,Visa,USD,10.00,ics_bill\r\n"
            + "1,M,2025-12-01,C1,R-1,x,Visa,USD,-49.00,ics_credit\r\n"
            + "1,M,2025-12-01,C2,R-2,x,Visa,USD,-5.00,ics_credit\r\n"
            + "1,M,2025-12-01,C3,R-3,x,Visa,EUR,-5.00,ics_credit\r\n"
            + "1,M,2025-12-01,C9,R-9,x,Visa,USD,-8.00,ics_credit\r\n"
        let report = try PaymentBatchReport.parse(csv).get()
        let payments = [Reconciliation.RecordedPayment(orderRef: "R-1", transactionID: "T1", amount: 49, currency: "USD", at: Self.day),
                        .init(orderRef: "R-2", transactionID: "T2", amount: 49, currency: "USD", at: Self.day),
                        .init(orderRef: "R-3", transactionID: "T3", amount: 5, currency: "USD", at: Self.day),
                        .init(orderRef: "R-4", transactionID: "T4", amount: 5, currency: "USD", at: Self.day.addingTimeInterval(-86_400))]
        let result = Reconciliation.compute(report, payments: payments, refunds: [Self.refund("R-2", 5, reference: "C2"),
                                                                                  Self.refund("R-9", 7, reference: "C9")],
                                            orderCurrencies: ["R-1": "USD", "R-2": "USD", "R-3": "USD", "R-4": "USD"])
        #expect(result.matched.map(\.requestID) == ["T1", "C2"])
        #expect(result.amountMismatch.map(\.requestID) == ["T2", "C9"], "a refund recorded as 7.00 that the gateway made 8.00")
        #expect(result.inGatewayOnly.map(\.requestID) == ["T9"])
        #expect(result.inRegistrarOnly.map(\.requestID) == ["T3"], "R-4 was paid before the report's period")
        #expect(result.refundNotRecorded.map(\.requestID) == ["C1", "C3"])
        #expect(result.refundsToApply == [GatewayRefund(orderRef: "R-1", amount: 49, currency: "USD", reference: "C1", origin: .reconciliation)])
        #expect(result.refundNotRecorded[1].note?.contains("paid in USD") == true)
        let json = result.json(applied: 1)
        #expect(json["refunds_applied"] == .number(1) && json["amount_mismatch"]?.arrayValue?.first?["gateway_amount"] == .string("59.00"))
        #expect(result.csv.hasPrefix("list,merchant_ref_number,request_id,currency,gateway_amount,registrar_amount,line,note\r\nmatched,R-1,T1,USD,49.00,49.00,3,\r\n"))
    }

    @Test func daysAreReadStrictly() {
        #expect(CivilCalendar.date("2025-12-01") == Self.day)
        for bad in ["2025-2-01", "2025-02-30", "20251201", "2025-12-01T00", "", "abcd-ef-gh", "2025-13-01"] {
            #expect(CivilCalendar.date(bad) == nil, "\(bad)")
        }
    }

    // MARK: WooCommerce lines

    @Test func aPaidStoreOrderRecordsItsLinesAmountsAndRefunds() throws {
        let body = #"{"id": 727, "status": "processing", "currency": "eur", "billing": {"email": "Zoe@Example.com"},"#
            + #""line_items": [{"id": 311, "product_id": 93, "quantity": 1, "subtotal": "49.00", "total": "39.20"},"#
            + #"{"id": 312, "product_id": 93, "quantity": 3, "subtotal": "147.00", "total": "1e3"}],"#
            + #""refunds": [{"id": 731, "total": "-9.00"}, {"id": 732, "total": "0.00"}]}"#
        let payload = try WooPayload.parse(topic: "order.updated", body: Array(body.utf8))
        guard case .order(let order) = payload else { Issue.record("an order"); return }
        #expect(order.currency == "EUR")
        let subtotals: [Decimal?] = order.lineItems.map { $0.subtotal }
        let totals: [Decimal?] = order.lineItems.map { $0.total }
        #expect(subtotals == [49, 147] && totals == [Decimal(string: "39.2")!, nil])
        var store = StoreConfig(id: "main", webhookSecret: Secret("s"))
        store.seats = .codes
        let rules = WooIntakeRules(store: store, catalog: [CatalogEntry(store: "main", productID: 93, courseID: "course-v1:X+A+1", mode: "audit")])
        let decision = rules.decide(payload, memory: WooOrderMemory(), deliveryID: "d")
        let sales: [SaleLine] = decision.sales
        #expect(sales.map { $0.line } == [311, 312])
        #expect(sales.map { $0.fulfilment } == [SaleLine.Fulfilment.single, .codes])
        #expect(sales.map { $0.gross } == [Decimal(49), Decimal(147)])
        #expect(sales.map { $0.discount } == [Decimal(string: "9.8")!, Decimal(0)])
        #expect(sales.allSatisfy { $0.currency == "EUR" && $0.orderRef == "main:727" && $0.email == "zoe@example.com" })
        #expect(sales[0].enrollKey == WooKeys.enroll(store: "main", order: 727, line: 311) && sales[1].enrollKey == nil)
        let refunds: [RefundRecord] = decision.refunds
        #expect(refunds.map { $0.reference } == ["731"], "a zero refund is not money")
        #expect(refunds.map { $0.amount } == [Decimal(9)])
        let refundJSON = JSONValue.parse(#"{"id": 731, "line_items": [{"total": "-9.00", "meta_data": [{"key": "_refunded_item_id", "value": "311"}]}, {"total": "-1.00", "meta_data": []}]}"#)!
        #expect(WooRefundRule.refundedAmounts(refundJSON) == [311: 9])
        let unmapped = WooIntakeRules(store: StoreConfig(id: "main", webhookSecret: Secret("s")), catalog: [])
        #expect(unmapped.decide(payload, memory: WooOrderMemory(), deliveryID: "d").refunds.isEmpty, "an order of no course is not Registrar's")
    }
}
