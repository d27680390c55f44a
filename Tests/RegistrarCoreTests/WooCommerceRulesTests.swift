import Foundation
import RegistrarCore
import Testing

@Suite struct WooCommerceRulesTests {
    let rules = WooFixtures.rules
    let demo = "course-v1:edX+DemoX+Demo_Course"
    let run2026 = "course-v1:edX+DemoX+2026"
    let email = "zoe.muller@example.com"

    func decide(_ name: String, _ memory: WooOrderMemory = WooOrderMemory(), delivery: String = "d1") throws -> WooDecision {
        rules.decide(.order(try WooFixtures.order(name)), memory: memory, deliveryID: delivery)
    }

    func decide(_ order: WooOrder, _ memory: WooOrderMemory = WooOrderMemory(), rules: WooIntakeRules? = nil) -> WooDecision {
        (rules ?? self.rules).decide(.order(order), memory: memory, deliveryID: "d1")
    }

    func course(_ id: Int, product: Int = 93, quantity: Int = 1) -> WooLineItem {
        WooLineItem(id: id, name: "Course \(id)", productID: product, quantity: quantity)
    }

    func order(_ status: String, lines: [WooLineItem]? = nil, email: String? = "zoe.muller@example.com",
               modified: String? = "2026-11-20T10:00:00", refunds: [Int] = []) -> WooOrder {
        WooOrder(id: 727, status: status, billingEmail: email, dateModifiedGMT: modified,
                 lineItems: lines ?? [course(311), course(312)], refunds: refunds.map { WooRefundReference(id: $0) })
    }

    // MARK: Paid orders

    @Test func processingFixtureEnrollsEachCourseLine() throws {
        let decision = try decide("order-727-processing.json")
        #expect(decision.verdict == .accepted)
        #expect(decision.newestModifiedGMT == "2026-11-20T10:00:00")
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:main:727:311:enroll", "woo:main:727:312:enroll"])
        #expect(decision.notes == ["line 313 (T-shirt, product 99) maps to no course run"])

        let first = decision.jobs[0]
        #expect(first.kind == .enroll)
        #expect(first.source == "woocommerce:main")
        #expect(first.serialKey == "zoe.muller@example.com|\(demo)")
        #expect(first.maxAttempts == nil && first.runAt == nil)
        #expect(try first.decoded(EnrollPayload.self) == EnrollPayload(email: email, courseID: demo, mode: "verified", orderReference: "727"))
        let second = decision.jobs[1]
        #expect(second.serialKey == "zoe.muller@example.com|\(run2026)")
        #expect(try second.decoded(EnrollPayload.self) == EnrollPayload(email: email, courseID: run2026, mode: "audit", orderReference: "727"))
        // The encodable initialiser's text: sorted keys, snake_case, readable slashes.
        #expect(first.payload == #"{"course_id":"course-v1:edX+DemoX+Demo_Course","email":"zoe.muller@example.com","mode":"verified","order_reference":"727"}"#)
    }

    @Test func untrimmedEmailGivesTheSameJobs() throws {
        let plain = try decide("order-727-processing.json")
        let untrimmed = try decide("order-727-processing-untrimmed-email.json")
        #expect(untrimmed.jobs == plain.jobs)
    }

    @Test func completedAfterProcessingGivesTheSameEnrollKeys() throws {
        let processing = try decide("order-727-processing.json")
        let memory = WooOrderMemory(newestModifiedGMT: processing.newestModifiedGMT, linesWithEnroll: [311, 312])
        let completed = try decide("order-727-completed.json", memory)
        #expect(completed.verdict == .accepted)
        #expect(completed.jobs == processing.jobs) // already existing: the store returns those
        #expect(completed.newestModifiedGMT == "2026-11-20T10:05:00")
    }

    @Test func orderNumberIsTheOrderReference() throws {
        var paid = order("processing")
        paid.number = "WC-1001"
        let decision = decide(paid)
        #expect(try decision.jobs[0].decoded(EnrollPayload.self).orderReference == "WC-1001")
        #expect(decision.jobs[0].dedupeKey == "woo:main:727:311:enroll") // keys use the id, which never changes
        #expect(decision.reason?.contains("number WC-1001") == true)
    }

    var buyerSeats: WooIntakeRules {
        var store = WooFixtures.store
        store.seats = .buyer
        return WooIntakeRules(store: store, catalog: WooFixtures.catalog)
    }

    @Test func withSeatsBuyerQuantityIsIgnoredButNoted() {
        let decision = decide(order("completed", lines: [course(311, quantity: 3)]), rules: buyerSeats)
        #expect(decision.jobs.count == 1)
        #expect(decision.seats.isEmpty)
        #expect(decision.notes == ["line 311 quantity 3: one enrollment for the buyer (seats: buyer)"])
    }

    @Test func severalSeatsBecomeCodesAndTheBuyerIsNotEnrolled() {
        let decision = decide(order("processing", lines: [course(311, quantity: 3), course(312)]))
        #expect(decision.verdict == .accepted)
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:main:727:312:enroll"])
        #expect(decision.seats == [SeatGrant(store: "main", orderID: 727, orderNumber: "727", lineID: 311, courseID: run2026, mode: "audit",
                                             seats: 3, buyerEmail: email)])
        #expect(decision.seats[0].sourceReference == "main:727:311")
        #expect(decision.reason == "paid order 727 (processing): 1 enrollment, 3 seats as codes")
        // Only seats: still accepted.
        #expect(decide(order("completed", lines: [course(311, quantity: 2)])).verdict == .accepted)
        // A line that enrolled its buyer before (quantity 1 then) keeps that, and says so.
        let before = decide(order("completed", lines: [course(311, quantity: 2)]), WooOrderMemory(linesWithEnroll: [311]))
        #expect(before.seats.isEmpty && before.jobs.count == 1)
        #expect(before.notes == ["line 311 quantity 2: the buyer was enrolled for it before; no codes"])
    }

    @Test func aLineSoldAsCodesStaysSoWhateverItsQuantityBecomes() {
        let keys = WooOrderKeys(store: "main", orderID: 727, lineIDs: [311, 312], refundIDs: [])
        let found: Set<String> = [WooKeys.seatCodes(store: "main", order: 727, line: 311, liveAfter: 3),
                                  WooKeys.seatCodes(store: "main", order: 7270, line: 312, liveAfter: 2)]
        let memory = keys.memory(newestModifiedGMT: nil, foundKeys: found).memory
        #expect(memory.linesWithCodes == [311])
        // Down to one seat: still codes (the surplus is voided), not an enrollment of the buyer.
        let one = decide(order("completed", lines: [course(311, quantity: 1)]), memory)
        #expect(one.jobs.isEmpty && one.seats.map(\.seats) == [1])
    }

    @Test func aRefundedOrderGivesItsSeatsBack() {
        let refunded = decide(order("refunded", lines: [course(311, quantity: 3), course(312)]), WooOrderMemory(linesWithEnroll: [312]))
        #expect(refunded.jobs.map(\.dedupeKey) == ["woo:main:727:312:unenroll"])
        #expect(refunded.seats.map(\.seats) == [0])
        let onlySeats = decide(order("refunded", lines: [course(311, quantity: 3)]))
        #expect(onlySeats.verdict == .accepted && onlySeats.jobs.isEmpty && onlySeats.seats.map(\.lineID) == [311])
        #expect(onlySeats.reason == "refunded order 727: the codes of 1 line voided")
    }

    @Test func aLinesCodesFollowItsSeats() throws {
        func live(_ count: Int, redeemed: Set<Int> = []) throws -> [SeatRules.LiveCode] {
            try (1...max(1, count)).prefix(count).map { id in
                SeatRules.LiveCode(id: Int64(id), code: try RegistrationCode.parse(String(format: "0000-0000-%04d", id)).get(),
                                   redeemedBy: redeemed.contains(id) ? ["l\(id)@example.com"] : [])
            }
        }
        #expect(SeatRules.plan(seats: 3, live: []).create == 3)
        #expect(SeatRules.plan(seats: 3, live: try live(3)) == .init(create: 0, void: [], redeemedBeyond: []))
        #expect(SeatRules.plan(seats: 5, live: try live(3)).create == 2)
        // Fewer seats: unredeemed codes go, newest first.
        let fewer = SeatRules.plan(seats: 1, live: try live(4, redeemed: [4]))
        #expect(fewer.void.map(\.value) == ["000000000003", "000000000002", "000000000001"].prefix(3).map { $0 })
        #expect(fewer.redeemedBeyond.isEmpty)
        // All seats back with two redeemed: the unredeemed go, the redeemed stay and are named.
        let all = SeatRules.plan(seats: 0, live: try live(3, redeemed: [1, 3]))
        #expect(all.void.map(\.value) == ["000000000002"])
        #expect(all.redeemedBeyond.map(\.id) == [3, 1])
        #expect(SeatRules.plan(seats: -1, live: try live(1)).void.count == 1)
    }

    @Test func everyEnrollStatusEnrolls() {
        for status in ["processing", "completed"] {
            #expect(decide(order(status)).jobs.map(\.kind) == [.enroll, .enroll], "\(status)")
        }
    }

    @Test func enrollAndUnenrollStatusesComeFromTheStoreConfiguration() {
        var store = StoreConfig(id: "main", webhookSecret: Secret("s"))
        store.enrollStatuses = ["completed"]
        store.unenrollStatuses = ["refunded", "cancelled"]
        let custom = WooIntakeRules(store: store, catalog: WooFixtures.catalog)
        #expect(decide(order("processing"), rules: custom).verdict == .ignored)
        #expect(decide(order("completed"), rules: custom).verdict == .accepted)
        let cancelled = decide(order("cancelled"), WooOrderMemory(linesWithEnroll: [311]), rules: custom)
        #expect(cancelled.jobs.map(\.dedupeKey) == ["woo:main:727:311:unenroll"])
    }

    @Test func paidWithoutEmailEnrollsNothing() {
        for email in [nil, "zoe.muller@example.com"] as [String?] {
            let decision = decide(order("processing", email: email, refunds: [731]))
            if email == nil {
                #expect(decision.verdict == .ignored)
                #expect(decision.reason == "paid order 727 has no billing email: nothing can be enrolled")
                #expect(decision.jobs.isEmpty)
                #expect(decision.newestModifiedGMT == "2026-11-20T10:00:00")
            } else {
                #expect(decision.verdict == .accepted)
            }
        }
    }

    @Test func paidWithoutCourseLines() {
        let tshirt = WooLineItem(id: 315, name: "T-shirt", productID: 99, quantity: 1)
        let decision = decide(order("processing", lines: [tshirt], email: nil, refunds: [731]))
        #expect(decision.verdict == .ignored)
        #expect(decision.reason == "paid order 727 (processing): none of its 1 lines maps to a course run")
        #expect(decision.jobs.isEmpty)
        #expect(decision.notes == ["line 315 (T-shirt, product 99) maps to no course run"])
        #expect(decide(order("processing", lines: [])).verdict == .ignored)
    }

    @Test func unmappedLineNoteNamesTheVariation() {
        let shirt = WooLineItem(id: 315, name: nil, productID: 99, variationID: 101, quantity: 1)
        #expect(decide(order("processing", lines: [course(311), shirt])).notes == ["line 315 (product 99, variation 101) maps to no course run"])
    }

    // MARK: Refunds of a paid order

    @Test func partialRefundAddsARefundJob() throws {
        let memory = WooOrderMemory(newestModifiedGMT: "2026-11-20T10:05:00", linesWithEnroll: [311, 312])
        let decision = try decide("order-727-partial-refund.json", memory)
        #expect(decision.verdict == .accepted)
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:main:727:311:enroll", "woo:main:727:312:enroll", "woo:main:727:refund:731"])
        let refund = decision.jobs[2]
        #expect(refund.kind == .woocommerceRefund)
        #expect(refund.serialKey == "woo:main:727")
        #expect(refund.source == "woocommerce:main")
        #expect(try refund.decoded(WooRefundJobPayload.self) == WooRefundJobPayload(
            store: "main", orderID: 727, orderNumber: "727", refundID: 731, email: email,
            lines: [.init(lineID: 311, courseID: demo, mode: "verified", quantity: 1),
                    .init(lineID: 312, courseID: run2026, mode: "audit", quantity: 1)]))
        #expect(decision.newestModifiedGMT == "2026-11-20T11:00:00")
    }

    @Test func refundPayloadUsesSnakeCase() throws {
        let decision = decide(order("processing", refunds: [731]))
        let json = try #require(decision.jobs.last?.payloadJSON)
        #expect(json["order_id"] == .number(727))
        #expect(json["order_number"] == .string("727"))
        #expect(json["refund_id"] == .number(731))
        #expect(json["email"] == .string(email))
        #expect(json["lines"]?.arrayValue?.first?["line_id"] == .number(311))
        #expect(json["lines"]?.arrayValue?.first?["course_id"] == .string(run2026))
        #expect(json["lines"]?.arrayValue?.first?["quantity"] == .number(1))
    }

    @Test func seenRefundsAreNotListedAgain() throws {
        let decision = try decide("order-727-partial-refund.json", WooOrderMemory(linesWithEnroll: [311, 312], refundsSeen: [731]))
        #expect(decision.jobs.map(\.kind) == [.enroll, .enroll])
    }

    @Test func unseenRefundsOldestFirst() {
        let decision = decide(order("processing", refunds: [740, 732, 731]), WooOrderMemory(refundsSeen: [732]))
        #expect(decision.jobs.map(\.dedupeKey).suffix(2) == ["woo:main:727:refund:731", "woo:main:727:refund:740"])
        let twice = decide(order("processing", refunds: [731, 731]))
        #expect(twice.jobs.filter { $0.kind == .woocommerceRefund }.count == 1)
    }

    @Test func unenrolledLineIsNeverEnrolledAgain() throws {
        let memory = WooOrderMemory(newestModifiedGMT: "2026-11-20T11:00:00", linesWithEnroll: [311, 312],
                                    linesWithUnenroll: [311], refundsSeen: [731])
        let decision = try decide("order-727-partial-refund.json", memory)
        #expect(decision.verdict == .accepted)
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:main:727:312:enroll"])
        #expect(decision.notes.contains("line 311 (\(demo)) was unenrolled after a refund: it is not enrolled again"))
    }

    @Test func unenrolledLineStillListedInRefundJobs() throws {
        let decision = decide(order("processing", refunds: [732]), WooOrderMemory(linesWithUnenroll: [311]))
        let refund = try #require(decision.jobs.last).decoded(WooRefundJobPayload.self)
        #expect(refund.lines.map(\.lineID) == [311, 312])
    }

    @Test func everyLineUnenrolledAndNoNewRefund() {
        let decision = decide(order("processing", refunds: [731]),
                              WooOrderMemory(linesWithEnroll: [311, 312], linesWithUnenroll: [311, 312], refundsSeen: [731]))
        #expect(decision.verdict == .ignored)
        #expect(decision.jobs.isEmpty)
        #expect(decision.reason?.contains("unenrolled") == true)
        #expect(decision.notes.count == 2)
    }

    // MARK: Refunded orders

    @Test func refundedUnenrollsEnrolledLines() throws {
        let memory = WooOrderMemory(newestModifiedGMT: "2026-11-20T11:00:00", linesWithEnroll: [311, 312], refundsSeen: [731])
        let decision = try decide("order-727-refunded.json", memory)
        #expect(decision.verdict == .accepted)
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:main:727:311:unenroll", "woo:main:727:312:unenroll"])
        #expect(decision.jobs.allSatisfy { $0.kind == .unenroll && $0.source == "woocommerce:main" })
        #expect(decision.jobs[0].serialKey == "zoe.muller@example.com|\(demo)")
        #expect(try decision.jobs[1].decoded(UnenrollPayload.self) == UnenrollPayload(email: email, courseID: run2026, orderReference: "727"))
        #expect(decision.newestModifiedGMT == "2026-11-20T12:00:00")
    }

    @Test func refundedCreatesNoRefundJobsEvenForUnseenRefunds() throws {
        let decision = try decide("order-727-refunded.json", WooOrderMemory(linesWithEnroll: [311, 312]))
        #expect(!decision.jobs.contains { $0.kind == .woocommerceRefund })
    }

    @Test func refundedUnenrollsOnlyWhatWasEnrolled() throws {
        let decision = try decide("order-727-refunded.json", WooOrderMemory(linesWithEnroll: [312]))
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:main:727:312:unenroll"])
        #expect(decision.notes.contains("line 311 (\(demo)) was never enrolled here: nothing to unenroll"))
    }

    @Test func refundedWithNothingEnrolled() throws {
        let decision = try decide("order-727-refunded.json")
        #expect(decision.verdict == .ignored)
        #expect(decision.jobs.isEmpty)
        #expect(decision.reason == "refunded order 727: none of its course lines was enrolled here, nothing to unenroll")
        #expect(decision.newestModifiedGMT == "2026-11-20T12:00:00")
    }

    @Test func refundedWithoutEmailOrCourseLines() {
        let noEmail = decide(order("refunded", email: nil), WooOrderMemory(linesWithEnroll: [311]))
        #expect(noEmail.verdict == .ignored && noEmail.jobs.isEmpty)
        #expect(noEmail.reason == "refunded order 727 has no billing email: nothing can be unenrolled")
        let noCourse = decide(order("refunded", lines: [WooLineItem(id: 9, productID: 99)]), WooOrderMemory(linesWithEnroll: [9]))
        #expect(noCourse.verdict == .ignored && noCourse.jobs.isEmpty)
    }

    @Test func refundedTwiceGivesTheSameKeys() throws {
        let memory = WooOrderMemory(linesWithEnroll: [311, 312], linesWithUnenroll: [311, 312])
        let first = try decide("order-727-refunded.json", memory)
        let again = try decide("order-727-refunded.json", WooOrderMemory(newestModifiedGMT: "2026-11-20T12:00:00", linesWithEnroll: [311, 312], linesWithUnenroll: [311, 312]))
        #expect(first.jobs == again.jobs && first.jobs.count == 2)
    }

    // MARK: Staleness

    @Test func olderStateIsStale() throws {
        let memory = WooOrderMemory(newestModifiedGMT: "2026-11-20T12:00:00", linesWithEnroll: [311, 312], linesWithUnenroll: [311, 312])
        let decision = try decide("order-727-processing-stale.json", memory)
        #expect(decision.verdict == .stale)
        #expect(decision.jobs.isEmpty && decision.notes.isEmpty)
        #expect(decision.newestModifiedGMT == nil)
        #expect(decision.reason?.contains("2026-11-20T09:59:00") == true)
        #expect(decision.reason?.contains("2026-11-20T12:00:00") == true)
    }

    @Test func staleByOneSecond() {
        let decision = decide(order("processing", modified: "2026-11-20T09:59:59"), WooOrderMemory(newestModifiedGMT: "2026-11-20T10:00:00"))
        #expect(decision.verdict == .stale)
    }

    @Test func equalTimestampGoesOn() {
        let decision = decide(order("processing"), WooOrderMemory(newestModifiedGMT: "2026-11-20T10:00:00"))
        #expect(decision.verdict == .accepted && decision.jobs.count == 2)
        #expect(decision.newestModifiedGMT == "2026-11-20T10:00:00")
    }

    @Test func newerTimestampGoesOnAndAdvances() {
        let decision = decide(order("processing", modified: "2026-11-21T00:00:00"), WooOrderMemory(newestModifiedGMT: "2026-11-20T10:00:00"))
        #expect(decision.verdict == .accepted)
        #expect(decision.newestModifiedGMT == "2026-11-21T00:00:00")
    }

    @Test func missingTimestamps() {
        let nothingKnown = decide(order("processing"))
        #expect(nothingKnown.verdict == .accepted && nothingKnown.newestModifiedGMT == "2026-11-20T10:00:00")
        // Without a date, a delivery cannot show it is newer than what was seen: it counts as the oldest, and says so.
        let noneSent = decide(order("processing", modified: nil), WooOrderMemory(newestModifiedGMT: "2026-11-20T12:00:00"))
        #expect(noneSent.verdict == .stale && noneSent.jobs.isEmpty && noneSent.newestModifiedGMT == nil)
        #expect(noneSent.reason?.contains("no date_modified_gmt") == true, "\(noneSent.reason ?? "")")
        let unreadable = decide(order("processing", modified: "yesterday"), WooOrderMemory(newestModifiedGMT: "2026-11-20T12:00:00"))
        #expect(unreadable.verdict == .stale && unreadable.reason?.contains("unreadable date_modified_gmt \"yesterday\"") == true)
        let neither = decide(order("processing", modified: nil))
        #expect(neither.verdict == .accepted && neither.newestModifiedGMT == nil)
    }

    /// "2026-11-20 13:00:00" sorts before "2026-11-20T12:00:00" as text, though it is an hour later.
    @Test func timestampsAreComparedAsInstantsWhateverTheirSpelling() {
        let later = decide(order("processing", modified: "2026-11-20 13:00:00"), WooOrderMemory(newestModifiedGMT: "2026-11-20T12:00:00"))
        #expect(later.verdict == .accepted && later.newestModifiedGMT == "2026-11-20T13:00:00")
        let earlier = decide(order("processing", modified: "2026-11-20T11:59:59"), WooOrderMemory(newestModifiedGMT: "2026-11-20 12:00:00"))
        #expect(earlier.verdict == .stale)
        #expect(earlier.reason?.contains("2026-11-20T11:59:59 GMT is older than 2026-11-20T12:00:00 GMT") == true, "\(earlier.reason ?? "")")
        // Fractions and an explicit zone.
        #expect(decide(order("processing", modified: "2026-11-20T12:00:00.500Z"),
                       WooOrderMemory(newestModifiedGMT: "2026-11-20T12:00:00")).verdict == .accepted)
        #expect(decide(order("processing", modified: "2026-11-20T13:30:00+02:00"),
                       WooOrderMemory(newestModifiedGMT: "2026-11-20T12:00:00")).verdict == .stale)
    }

    @Test func modifiedTimesParseEverySpellingAndRefuseTheRest() throws {
        let t = try #require(WooModifiedTime("2026-11-20T13:00:00"))
        #expect(WooModifiedTime("2026-11-20 13:00:00") == t && WooModifiedTime("2026-11-20T13:00:00Z") == t)
        #expect(WooModifiedTime("2026-11-20T14:00:00+01:00") == t && WooModifiedTime("2026-11-20T13:00:00.000") == t)
        #expect(t.milliseconds == 1_795_179_600_000 && t.canonical == "2026-11-20T13:00:00")
        #expect(WooModifiedTime("2026-11-20T13:00:00.25")?.canonical == "2026-11-20T13:00:00.250")
        #expect(WooModifiedTime("2026-11-20T13:00:00.123456")?.milliseconds == t.milliseconds + 123)
        for bad in ["", "9999", "2026-11-20", "2026-13-01T00:00:00", "2026-11-20T25:00:00", "2026-11-20T13:00:00 GMT",
                    "2026-11-20T13:00:00.", "2026-11-20X13:00:00", "２026-11-20T13:00:00"] {
            #expect(WooModifiedTime(bad) == nil, "\(bad)")
        }
    }

    @Test func ignoredOrdersStillAdvanceTheTimestamp() throws {
        let decision = try decide("order-801-pending.json", WooOrderMemory(newestModifiedGMT: "2026-11-20T13:00:00"))
        #expect(decision.verdict == .ignored && decision.newestModifiedGMT == "2026-11-20T13:10:00")
    }

    @Test func staleCheckOnlyForOrders() {
        let memory = WooOrderMemory(newestModifiedGMT: "2099-01-01T00:00:00")
        #expect(rules.decide(.action(name: "woocommerce_order_refunded", arg: .number(727)), memory: memory, deliveryID: "d").verdict == .accepted)
    }

    // MARK: Repeated deliveries

    @Test func duplicateDeliveryGivesTheSameDecision() throws {
        let body = try WooFixtures.bytes("order-727-partial-refund.json")
        let memory = WooOrderMemory(newestModifiedGMT: "2026-11-20T10:05:00")
        let first = rules.decide(try WooPayload.parse(topic: "order.updated", body: body), memory: memory, deliveryID: "a")
        let second = rules.decide(try WooPayload.parse(topic: "order.updated", body: body), memory: memory, deliveryID: "b")
        #expect(first == second)
        // After the first was stored, the same delivery names the same enroll keys.
        let after = WooOrderMemory(newestModifiedGMT: "2026-11-20T11:00:00", linesWithEnroll: [311, 312], refundsSeen: [731])
        let third = rules.decide(try WooPayload.parse(topic: "order.updated", body: body), memory: after, deliveryID: "a")
        #expect(third.verdict == .accepted)
        #expect(third.jobs == Array(first.jobs.prefix(2)))
    }

    @Test func tenUpdatesOfAPaidOrderNameTheSameEnrollments() {
        var memory = WooOrderMemory()
        var keys: Set<String> = []
        for minute in 0..<10 {
            let modified = "2026-11-20T10:\(String(format: "%02d", minute)):00"
            let decision = decide(order(minute.isMultiple(of: 2) ? "processing" : "completed", modified: modified), memory)
            #expect(decision.verdict == .accepted)
            keys.formUnion(decision.jobs.map(\.dedupeKey))
            memory.newestModifiedGMT = decision.newestModifiedGMT
            memory.linesWithEnroll.formUnion([311, 312])
        }
        #expect(keys == ["woo:main:727:311:enroll", "woo:main:727:312:enroll"])
        #expect(memory.newestModifiedGMT == "2026-11-20T10:09:00")
    }

    @Test func deterministic() throws {
        let memory = WooOrderMemory(newestModifiedGMT: "2026-11-20T10:00:00", linesWithEnroll: [312], refundsSeen: [1])
        for name in ["order-727-processing.json", "order-727-partial-refund.json", "order-727-refunded.json", "order-800-checkout-draft.json"] {
            let decisions = try (0..<5).map { _ in try decide(name, memory) }
            #expect(Set(decisions.map { "\($0)" }).count == 1, "\(name)")
        }
        let many = order("processing", lines: (1...40).map { course($0) }, refunds: Array((100...120).reversed()))
        let a = decide(many), b = decide(many)
        #expect(a == b)
        #expect(a.jobs.map(\.dedupeKey) == (1...40).map { "woo:main:727:\($0):enroll" } + (100...120).map { "woo:main:727:refund:\($0)" })
    }

    // MARK: Statuses that create nothing

    @Test(arguments: ["checkout-draft", "draft", "auto-draft", "pending", "on-hold", "failed", "cancelled", "trash",
                      "ready-for-pickup", "new", "Processing", ""])
    func statusCreatesNothing(status: String) {
        let decision = decide(order(status, refunds: [731]))
        #expect(decision.verdict == .ignored)
        #expect(decision.reason == "status \(status) creates nothing")
        #expect(decision.jobs.isEmpty && decision.notes.isEmpty)
        #expect(decision.newestModifiedGMT == "2026-11-20T10:00:00")
    }

    @Test func draftAndPendingFixtures() throws {
        #expect(try decide("order-800-checkout-draft.json").reason == "status checkout-draft creates nothing")
        #expect(try decide("order-801-pending.json").reason == "status pending creates nothing")
        #expect(try decide("order-800-checkout-draft.json").jobs.isEmpty)
    }

    @Test(arguments: ["cancelled", "trash", "on-hold"])
    func cancellingKeepsEnrollments(status: String) {
        let decision = decide(order(status), WooOrderMemory(linesWithEnroll: [311]))
        #expect(decision.verdict == .ignored && decision.jobs.isEmpty)
        #expect(decision.reason == "status \(status) creates nothing: the enrollments already made for order 727 are kept; refunding the order unenrolls")
    }

    /// A refund just before a cancellation may only ever be seen in the cancelled order's delivery.
    @Test func refundSeenOnlyInACancelledOrderIsStillChecked() throws {
        let decision = decide(order("cancelled", refunds: [731, 732]), WooOrderMemory(linesWithEnroll: [311], refundsSeen: [732]))
        #expect(decision.verdict == .accepted)
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:main:727:refund:731"])
        #expect(try decision.jobs[0].decoded(WooRefundJobPayload.self).lines.map(\.lineID) == [311, 312])
        #expect(decision.reason?.contains("kept") == true)
        // Nothing was enrolled: nothing to check.
        #expect(decide(order("cancelled", refunds: [731])).verdict == .ignored)
    }

    // MARK: Other payloads

    @Test func deletedOrder() throws {
        let decision = rules.decide(try WooPayload.parse(topic: "order.deleted", body: WooFixtures.bytes("order-deleted.json")),
                                    memory: WooOrderMemory(linesWithEnroll: [311]), deliveryID: "d")
        #expect(decision == WooDecision(verdict: .ignored, reason: "order 727 moved to trash; enrollments are kept (refund the order to unenroll)"))
    }

    @Test func actionOrderRefunded() throws {
        let payload = try WooPayload.parse(topic: "action.woocommerce_order_refunded", body: WooFixtures.bytes("action-order-refunded.json"))
        let decision = rules.decide(payload, memory: WooOrderMemory(), deliveryID: "5f2a")
        #expect(decision.verdict == .accepted)
        #expect(decision.newestModifiedGMT == nil)
        let job = try #require(decision.jobs.first)
        #expect(decision.jobs.count == 1)
        #expect(job.kind == .woocommerceRefund)
        #expect(job.dedupeKey == "woo:main:727:sync:5f2a")
        #expect(job.serialKey == "woo:main:727")
        #expect(job.source == "woocommerce:main")
        #expect(try job.decoded(WooRefundJobPayload.self) == WooRefundJobPayload(store: "main", orderID: 727, orderNumber: "727"))
        #expect(job.payloadJSON?["refund_id"] == nil && job.payloadJSON?["email"] == nil && job.payloadJSON?["lines"] == .array([]))
    }

    @Test func actionArgAsStringAndPerDeliveryKeys() {
        let string = rules.decide(.action(name: "woocommerce_order_refunded", arg: .string("727")), memory: .init(), deliveryID: "x")
        let number = rules.decide(.action(name: "woocommerce_order_refunded", arg: .number(727)), memory: .init(), deliveryID: "x")
        #expect(string == number && string.verdict == .accepted)
        let other = rules.decide(.action(name: "woocommerce_order_refunded", arg: .number(727)), memory: .init(), deliveryID: "y")
        #expect(other.jobs.map(\.dedupeKey) == ["woo:main:727:sync:y"])
    }

    @Test(arguments: [JSONValue.string("abc"), .string(""), .number(7.5), .number(0), .number(-3), .bool(true), .null,
                      .object(["id": .number(727)]), .array([.number(727)])])
    func actionWithoutAnOrderID(arg: JSONValue) {
        let decision = rules.decide(.action(name: "woocommerce_order_refunded", arg: arg), memory: .init(), deliveryID: "x")
        #expect(decision.verdict == .ignored && decision.jobs.isEmpty)
        #expect(decision.reason?.hasPrefix("action woocommerce_order_refunded: arg ") == true)
        #expect(decision.reason?.hasSuffix(" is not an order id") == true)
    }

    @Test func otherActionsCreateNothing() {
        let decision = rules.decide(.action(name: "woocommerce_new_order", arg: .number(727)), memory: .init(), deliveryID: "x")
        #expect(decision == WooDecision(verdict: .ignored, reason: "action woocommerce_new_order creates nothing"))
    }

    @Test(arguments: ["product.updated", "customer.created", "coupon.deleted"])
    func otherTopicsCreateNothing(topic: String) throws {
        let decision = rules.decide(try WooPayload.parse(topic: topic, text: "{}"), memory: .init(), deliveryID: "x")
        #expect(decision == WooDecision(verdict: .ignored, reason: "topic \(topic) creates nothing"))
    }

    @Test func storeIDNamesSourceKeysAndSerials() {
        let eu = WooIntakeRules(store: StoreConfig(id: "eu", webhookSecret: Secret("s")),
                                catalog: [CatalogEntry(store: "eu", productID: 93, courseID: run2026)])
        let decision = eu.decide(.order(order("processing", refunds: [731])), memory: .init(), deliveryID: "x")
        #expect(decision.jobs.map(\.dedupeKey) == ["woo:eu:727:311:enroll", "woo:eu:727:312:enroll", "woo:eu:727:refund:731"])
        #expect(decision.jobs.allSatisfy { $0.source == "woocommerce:eu" })
        #expect(decision.jobs.last?.serialKey == "woo:eu:727")
        // The main store's catalog entry does not apply to this store.
        let mainCatalog = WooIntakeRules(store: StoreConfig(id: "eu", webhookSecret: Secret("s")), catalog: WooFixtures.catalog)
        #expect(mainCatalog.decide(.order(order("processing")), memory: .init(), deliveryID: "x").verdict == .ignored)
    }
}
