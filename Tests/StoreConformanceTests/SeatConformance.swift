import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// A WooCommerce line selling several seats: its codes made with the delivery, in the same commit, and kept
/// in line with the seats it holds as the order changes; redeemed codes never taken back silently.
@Suite struct SeatConformance {
    let rules = WooIntakeRules(store: StoreConfig(id: "main", webhookSecret: Secret("s")), catalog: [
        CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+2026", mode: "audit"),
    ])

    func deliver(_ store: any RegistrarStorage, seats: Int, status: String = "processing", modified: String) async throws -> WooIntakeOutcome {
        let order = WooOrder(id: 900, number: "WC-900", status: status, billingEmail: "buyer@example.com", dateModifiedGMT: modified,
                             lineItems: [WooLineItem(id: 901, productID: 93, quantity: seats)])
        return try await store.recordWooCommerce(WooIntake.prepared(.order(order), rules: rules), delivery: NewDelivery(
            source: "woocommerce", channel: "main", body: Array("{}".utf8), verdict: "", httpStatus: 200))
    }

    func lineCodes(_ store: any RegistrarStorage) async throws -> [CodeRecord] {
        try await store.codes(CodeFilter(source: "order", sourceReference: "main:900:901"))
    }

    @Test(arguments: Backends.all)
    func aLinesCodesFollowItsSeats(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let first = try await deliver(store, seats: 3, modified: "2026-12-01T10:00:00")
            #expect(first.decision.verdict == .accepted && first.jobs.isEmpty)
            #expect(first.decision.notes.contains { $0.contains("3 codes for the buyer to hand out (3 in all)") })
            var codes = try await lineCodes(store)
            #expect(codes.count == 3 && codes.allSatisfy { $0.state == .active && $0.courseID == "course-v1:edX+DemoX+2026" && $0.mode == "audit" })
            let mails = try await store.jobs(JobFilter(kind: .mail))
            #expect(mails.count == 1)
            let mail = try mails[0].decodePayload(CodesMailPayload.self)
            #expect(mail.to == "buyer@example.com" && Set(mail.codes) == Set(codes.map(\.code.grouped)) && mail.orderNumber == "WC-900")
            #expect(try await store.jobs(JobFilter(kind: .enroll)).isEmpty, "the buyer is not enrolled")
            let deliveryID = try #require(first.deliveryID)
            let delivery = try #require(try await store.delivery(id: deliveryID))
            #expect(delivery.reason?.contains("3 codes for the buyer") == true)
            #expect(delivery.reason?.contains(codes[0].code.value) == false, "a whole code in a delivery's reason")

            // The same state again: nothing new.
            _ = try await deliver(store, seats: 3, modified: "2026-12-01T10:00:00")
            _ = try await deliver(store, seats: 3, modified: "2026-12-01T10:05:00")
            #expect(try await lineCodes(store).count == 3)
            #expect(try await store.jobs(JobFilter(kind: .mail)).count == 1)

            // One more seat: one more code, and a mail with that one.
            _ = try await deliver(store, seats: 4, modified: "2026-12-01T11:00:00")
            codes = try await lineCodes(store)
            #expect(codes.count == 4)
            let mailsNow = try await store.jobs(JobFilter(kind: .mail))
            #expect(mailsNow.count == 2)
            #expect(try mailsNow[0].decodePayload(CodesMailPayload.self).codes == [codes[0].code.grouped])

            // Two learners redeem; the order drops to one seat: the two unredeemed go, newest first... but only
            // two are unredeemed and three must go: the rest is for an operator.
            _ = try await store.redeem(codes[3].code, email: "a@example.com") // the oldest
            _ = try await store.redeem(codes[2].code, email: "b@example.com")
            let fewer = try await deliver(store, seats: 1, modified: "2026-12-01T12:00:00")
            codes = try await lineCodes(store)
            #expect(codes.filter { $0.state == .void }.map(\.code) == [codes[0].code, codes[1].code])
            #expect(codes.filter { $0.state == .redeemed }.count == 2)
            #expect(fewer.decision.notes.contains { $0.hasPrefix("refund_exceeds_unredeemed_seats") && $0.contains("b@example.com") })

            // Refunded: nothing left to void, the redeemed stay, nobody is unenrolled.
            let refunded = try await deliver(store, seats: 3, status: "refunded", modified: "2026-12-01T13:00:00")
            #expect(refunded.decision.notes.contains { $0.contains("refund_exceeds_unredeemed_seats") && $0.contains("a@example.com") })
            #expect(try await store.jobs(JobFilter(kind: .unenroll)).isEmpty)
        }
    }

    /// Refunds give seats back on a line whose quantity stays as sold: the count is kept, later deliveries make
    /// no code again, and a shortfall flags the order once, until dismissed.
    @Test(arguments: Backends.all)
    func refundedSeatsStayRefundedAndAShortfallIsFlaggedOnce(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await deliver(store, seats: 3, modified: "2026-12-01T10:00:00")
            var codes = try await lineCodes(store)
            _ = try await store.redeem(codes[2].code, email: "a@example.com") // the oldest
            func refund(_ seats: Int) -> SeatRefund {
                SeatRefund(SeatGrant(store: "main", orderID: 900, orderNumber: "WC-900", lineID: 901, courseID: "course-v1:edX+DemoX+2026",
                                     mode: "audit", seats: 3, buyerEmail: "buyer@example.com"), refunded: seats)
            }
            let notes = try await store.refundSeats([refund(2)], deliveryID: nil)
            #expect(notes.contains { $0.contains("2 unredeemed codes voided (order WC-900: 2 of the 3 seats of line 901 refunded)") }, "\(notes)")
            codes = try await lineCodes(store)
            #expect(codes.map(\.state) == [.void, .void, .redeemed])
            #expect(try await store.storeOrdersNeedingAttention(limit: 10).isEmpty)
            // An older count read again, or the order delivered again: nothing comes back.
            #expect(try await store.refundSeats([refund(1)], deliveryID: nil).isEmpty)
            _ = try await deliver(store, seats: 3, modified: "2026-12-01T11:00:00")
            #expect(try await lineCodes(store) == codes)
            #expect(try await store.jobs(JobFilter(kind: .mail)).count == 1)

            // The last seat refunded is a redeemed one: flagged, nobody unenrolled, the code named whole.
            let shortfall = try await store.refundSeats([refund(3)], deliveryID: nil)
            #expect(shortfall.contains { $0.hasPrefix("refund_exceeds_unredeemed_seats") && !$0.contains(codes[2].code.grouped) })
            let flags = try await store.storeOrdersNeedingAttention(limit: 10)
            #expect(flags.map(\.reference) == ["main:900"] && flags.first?.attention == .refundExceedsUnredeemedSeats)
            #expect(flags.first?.detail.contains(codes[2].code.grouped) == true && flags.first?.detail.contains("a@example.com") == true)
            #expect(try await store.jobs(JobFilter(kind: .unenroll)).isEmpty)

            let dismissed = try await store.dismissStoreOrder(store: "main", orderID: 900, actor: "ops", note: "kept")
            #expect(dismissed?.reference == "main:900")
            #expect(try await store.dismissStoreOrder(store: "main", orderID: 900, actor: "ops", note: nil) == nil)
            // The same shortfall seen again is not raised again.
            _ = try await store.refundSeats([refund(3)], deliveryID: nil)
            _ = try await deliver(store, seats: 3, modified: "2026-12-01T12:00:00")
            #expect(try await store.storeOrdersNeedingAttention(limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backends.all)
    func aStoreWithSeatsBuyerEnrollsTheBuyerOnce(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            var config = StoreConfig(id: "main", webhookSecret: Secret("s"))
            config.seats = .buyer
            let buyerRules = WooIntakeRules(store: config, catalog: rules.mapper.catalog)
            let order = WooOrder(id: 900, status: "processing", billingEmail: "buyer@example.com", dateModifiedGMT: "2026-12-01T10:00:00",
                                 lineItems: [WooLineItem(id: 901, productID: 93, quantity: 3)])
            let outcome = try await store.recordWooCommerce(WooIntake.prepared(.order(order), rules: buyerRules), delivery: NewDelivery(
                source: "woocommerce", channel: "main", body: [], verdict: "", httpStatus: 200))
            #expect(outcome.jobs.count == 1)
            #expect(try await lineCodes(store).isEmpty)
        }
    }
}
