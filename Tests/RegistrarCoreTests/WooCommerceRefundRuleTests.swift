import Foundation
import RegistrarCore
import Testing

/// Which course lines a WooCommerce refund undoes.
@Suite struct WooCommerceRefundRuleTests {
    let demo = "course-v1:edX+DemoX+Demo_Course"
    let run2026 = "course-v1:edX+DemoX+2026"

    func payload(email: String? = "zoe@example.com", seats: [Int: Int] = [311: 1, 312: 1]) -> WooRefundJobPayload {
        WooRefundJobPayload(store: "main", orderID: 727, orderNumber: "727", refundID: 731, email: email,
                            lines: seats.sorted { $0.key < $1.key }.map { line, quantity in
                                .init(lineID: line, courseID: line == 311 ? demo : run2026, mode: "verified", quantity: quantity)
                            })
    }

    /// A REST refund object refunding `quantity` seats of each line (negative, as WooCommerce writes them).
    func refund(_ lines: [Int: Int?]) -> JSONValue {
        .object(["id": .number(731), "line_items": .array(lines.sorted { $0.key < $1.key }.map { line, quantity in
            var item: [String: JSONValue] = ["meta_data": .array([
                .object(["key": .string("_reduced_stock"), "value": .string("1")]),
                .object(["key": .string("_refunded_item_id"), "value": .string(String(line))]),
            ])]
            if let quantity { item["quantity"] = .number(Double(-quantity)) }
            return .object(item)
        })])
    }

    @Test func aRefundByAmountOnlyUndoesNothing() {
        let amountOnly = JSONValue.object(["id": .number(731), "amount": .string("5.00"), "line_items": .array([])])
        #expect(WooRefundRule.decide(payload(), refundID: 731, refund: amountOnly, everyRefund: nil)
                == .settled("refund 731 is by amount only: no line refunded, nothing to unenroll"))
    }

    @Test func aRefundOfNoCourseLineUndoesNothing() {
        #expect(WooRefundRule.decide(payload(), refundID: 731, refund: refund([313: 1]), everyRefund: nil)
                == .settled("refund 731 covers no course line"))
    }

    @Test func aWhollyRefundedLineIsUnenrolledIfItWasEnrolled() throws {
        let outcome = WooRefundRule.decide(payload(), refundID: 731, refund: refund([311: 1]), everyRefund: nil)
        guard case .unenroll(let jobs, let whole, let partial) = outcome else {
            Issue.record("expected unenroll, got \(outcome)")
            return
        }
        #expect(whole == [311] && partial.isEmpty)
        #expect(jobs.count == 1)
        let job = try #require(jobs.first)
        #expect(job.requiresDedupeKey == WooKeys.enroll(store: "main", order: 727, line: 311))
        #expect(job.job.kind == .unenroll && job.job.dedupeKey == WooKeys.unenroll(store: "main", order: 727, line: 311))
        #expect(job.job.serialKey == SerialKey.enrollment(email: "zoe@example.com", courseID: demo))
        #expect(job.job.source == "woocommerce:main")
        #expect(job.job.payload == #"{"course_id":"course-v1:edX+DemoX+Demo_Course","email":"zoe@example.com","order_reference":"727"}"#)
    }

    /// Part of a line's seats in this refund: only every refund of the order can tell whether all are refunded.
    @Test func aPartlyRefundedLineAsksForEveryRefund() {
        let seats = payload(seats: [311: 3, 312: 1])
        #expect(WooRefundRule.decide(seats, refundID: 731, refund: refund([311: 1]), everyRefund: nil) == .needsEveryRefund)
        // Only this refund exists: the line keeps its enrollment.
        #expect(WooRefundRule.decide(seats, refundID: 731, refund: refund([311: 1]), everyRefund: [refund([311: 1])])
                == .settled("refund 731 refunds part of lines [311]; enrollments kept"))
        // Earlier refunds covered the other seats: now the whole line is refunded.
        let all = [refund([311: 1]), refund([311: 2])]
        guard case .unenroll(_, let whole, let partial) = WooRefundRule.decide(seats, refundID: 731, refund: refund([311: 1]),
                                                                                everyRefund: all) else {
            Issue.record("expected unenroll")
            return
        }
        #expect(whole == [311] && partial.isEmpty)
    }

    @Test func wholeAndPartialLinesInOneRefund() {
        let seats = payload(seats: [311: 1, 312: 4])
        let thisRefund = refund([311: 1, 312: 2])
        #expect(WooRefundRule.decide(seats, refundID: 731, refund: thisRefund, everyRefund: nil) == .needsEveryRefund)
        guard case .unenroll(let jobs, let whole, let partial) = WooRefundRule.decide(seats, refundID: 731, refund: thisRefund,
                                                                                       everyRefund: [thisRefund]) else {
            Issue.record("expected unenroll")
            return
        }
        #expect(whole == [311] && partial == [312] && jobs.map(\.job.dedupeKey) == ["woo:main:727:311:unenroll"])
    }

    /// A line whose quantity is not given counts as one seat refunded.
    @Test func aLineWithoutAQuantityCountsAsOneSeat() {
        #expect(WooRefundRule.refundedQuantities(refund([311: nil, 312: 2])) == [311: 1, 312: 2])
        guard case .unenroll(_, let whole, _) = WooRefundRule.decide(payload(), refundID: 731, refund: refund([311: nil]),
                                                                      everyRefund: nil) else {
            Issue.record("expected unenroll")
            return
        }
        #expect(whole == [311])
    }

    @Test func refundedQuantitiesReadOnlyLinesThatNameTheirOrderLine() {
        let odd = JSONValue.object(["line_items": .array([
            .object(["quantity": .number(-1)]),
            .object(["quantity": .number(-1), "meta_data": .array([.object(["key": .string("_refunded_item_id"), "value": .string("x")])])]),
            .object(["quantity": .string("-2"), "meta_data": .array([.object(["key": .string("_refunded_item_id"), "value": .string("311")])])]),
            .object(["quantity": .number(-1), "meta_data": .array([.object(["key": .string("_refunded_item_id"), "value": .string("311")])])]),
        ])])
        #expect(WooRefundRule.refundedQuantities(odd) == [311: 3])
        #expect(WooRefundRule.refundedQuantities(.null).isEmpty)
    }

    @Test func linesToUnenrollWithoutAnEmailIsAPermanentFailure() {
        #expect(WooRefundRule.decide(payload(email: nil), refundID: 731, refund: refund([311: 1, 312: 1]), everyRefund: nil)
                == .cannotUnenroll("order 727 has no billing email: cannot unenroll lines [311, 312]"))
        // Nothing to unenroll needs no email.
        #expect(WooRefundRule.decide(payload(email: nil), refundID: 731, refund: refund([313: 1]), everyRefund: nil)
                == .settled("refund 731 covers no course line"))
    }

    /// A line sold as codes: every refunded seat counts (it voids a code), summed over every refund of the order,
    /// and nobody is unenrolled for it; an enrolled line in the same refund is decided as before.
    @Test func aLineSoldAsCodesCountsItsRefundedSeats() throws {
        var mixed = payload(seats: [311: 1, 312: 5])
        mixed.lines[1].codes = true
        let thisRefund = refund([312: 2])
        #expect(WooRefundRule.decide(mixed, refundID: 731, refund: thisRefund, everyRefund: nil) == .needsEveryRefund)
        let earlier = refund([312: 1])
        guard case .refundSeats(let seats, let jobs, let whole, let partial)
                = WooRefundRule.decide(mixed, refundID: 731, refund: thisRefund, everyRefund: [thisRefund, earlier]) else {
            Issue.record("expected refundSeats")
            return
        }
        #expect(jobs.isEmpty && whole.isEmpty && partial.isEmpty)
        #expect(seats == [SeatRefund(SeatGrant(store: "main", orderID: 727, orderNumber: "727", lineID: 312, courseID: run2026,
                                               mode: "verified", seats: 5, buyerEmail: "zoe@example.com"), refunded: 3)])
        #expect(seats.first?.grant.seats == 5, "the store subtracts what it has recorded")

        // Both lines in one refund: the enrolled line wholly refunded is unenrolled, the seat line counted.
        let both = refund([311: 1, 312: 5])
        guard case .refundSeats(let allSeats, let unenrolls, let wholeLines, _)
                = WooRefundRule.decide(mixed, refundID: 731, refund: both, everyRefund: nil) else {
            Issue.record("expected refundSeats")
            return
        }
        #expect(allSeats.map(\.refunded) == [5] && wholeLines == [311] && unenrolls.map(\.job.dedupeKey) == ["woo:main:727:311:unenroll"])
    }

    /// More seats refunded than the line holds (a store's odd arithmetic) is the whole line, never more.
    @Test func refundedSeatsAreBoundedByTheLine() {
        let line = SeatGrant(store: "s", orderID: 1, orderNumber: "1", lineID: 2, courseID: "c", mode: nil, seats: 3, buyerEmail: nil)
        #expect(SeatRefund(line, refunded: 7).refunded == 3)
        #expect(SeatRefund(line, refunded: -1).refunded == 0)
    }

    /// Old jobs carry no `codes` flag; new ones say it only when true.
    @Test func theCodesFlagIsReadWhenPresentAndWrittenOnlyWhenTrue() throws {
        let old = try JSONDecoder().decode(WooRefundJobPayload.Line.self, from: Data(#"{"line_id":1,"course_id":"c","quantity":2}"#.utf8))
        #expect(old.codes == false)
        let sold = WooRefundJobPayload.Line(lineID: 1, courseID: "c", quantity: 2, codes: true)
        let text = String(decoding: try JSONEncoder().encode(sold), as: UTF8.self)
        #expect(text.contains(#""codes":true"#))
        #expect(try JSONDecoder().decode(WooRefundJobPayload.Line.self, from: Data(text.utf8)) == sold)
        #expect(!String(decoding: try JSONEncoder().encode(old), as: UTF8.self).contains("codes"))
    }
}

/// What an operator may do to a job in each state.
@Suite struct OperatorRulesTests {
    @Test func replayTakesQueuedFailedAndCancelledJobs() {
        let allowed = JobState.allCases.filter { OperatorRules.replayRefusal(jobID: 7, state: $0) == nil }
        #expect(allowed == [.queued, .failed, .cancelled])
        #expect(OperatorRules.replayRefusal(jobID: 7, state: .running) == "job 7 is running now; replay it only if it fails")
        #expect(OperatorRules.replayRefusal(jobID: 7, state: .succeeded)?.contains("already succeeded") == true)
        #expect(OperatorRules.replayRefusal(jobID: 7, state: .superseded)?.contains("superseded") == true)
    }

    @Test func cancelTakesQueuedAndFailedJobs() {
        let allowed = JobState.allCases.filter { OperatorRules.cancelRefusal(jobID: 7, state: $0) == nil }
        #expect(allowed == [.queued, .failed])
        for state in [JobState.running, .succeeded, .cancelled, .superseded] {
            #expect(OperatorRules.cancelRefusal(jobID: 7, state: state)?.hasPrefix("job 7 ") == true)
        }
    }

    @Test func onlyAnEnrollCanBeSuperseded() {
        #expect(OperatorRules.canBeSuperseded(.enroll))
        #expect(![JobKind.unenroll, .rerun, .woocommerceRefund].contains(where: OperatorRules.canBeSuperseded))
        #expect(OperatorRules.supersededError(by: 9).hasPrefix("superseded by job 9"))
    }
}

/// How the dedupe keys a store finds become an order's memory.
@Suite struct WooOrderKeysTests {
    @Test func foundKeysBecomeTheOrdersMemoryAndTheRestAreAbsent() {
        let keys = WooOrderKeys(store: "main", orderID: 727, lineIDs: [311, 312], refundIDs: [731])
        #expect(keys.prefix == "woo:main:727:")
        #expect(keys.all.count == 5 && keys.all.allSatisfy { $0.hasPrefix(keys.prefix) })
        let nothing = keys.memory(newestModifiedGMT: nil, foundKeys: [])
        #expect(nothing.memory == WooOrderMemory() && nothing.absentKeys == keys.all)

        let found: Set = [WooKeys.enroll(store: "main", order: 727, line: 311), WooKeys.unenroll(store: "main", order: 727, line: 312),
                          WooKeys.refund(store: "main", order: 727, refund: 731),
                          // A neighbour's key under the same prefix counts for nothing.
                          WooKeys.enroll(store: "main", order: 727, line: 999)]
        let some = keys.memory(newestModifiedGMT: "2026-11-20T10:00:00", foundKeys: found)
        #expect(some.memory == WooOrderMemory(newestModifiedGMT: "2026-11-20T10:00:00", linesWithEnroll: [311],
                                              linesWithUnenroll: [312], refundsSeen: [731]))
        #expect(some.absentKeys == [WooKeys.enroll(store: "main", order: 727, line: 312),
                                    WooKeys.unenroll(store: "main", order: 727, line: 311)])
        // A timestamp alone is memory too.
        #expect(keys.memory(newestModifiedGMT: "t", foundKeys: []).memory == WooOrderMemory(newestModifiedGMT: "t"))
    }
}
