import Foundation

/// Which course lines a WooCommerce refund undoes. A refund's lines are visible only through the store's REST
/// API; the handler fetches them and asks this rule, which may ask for every refund of the order when one refund
/// alone cannot tell (a line's seats refunded over several refunds).
public enum WooRefundRule {
    public enum Outcome: Sendable, Equatable {
        /// Nothing to unenroll; the detail says why (kept on the job).
        case settled(String)
        /// A touched line has more seats than this refund covers: decide again with every refund of the order.
        case needsEveryRefund
        /// Unenroll the wholly refunded lines, each only if its enroll job exists.
        case unenroll(jobs: [ConditionalJob], whole: [Int], partial: [Int])
        /// Lines to unenroll but no way to say whom: a permanent failure with this reason.
        case cannotUnenroll(String)
        /// Lines sold as codes lost seats: record the refunded seats (the store voids that many codes), and unenroll
        /// the wholly refunded enrolled lines as `.unenroll` would.
        case refundSeats([SeatRefund], jobs: [ConditionalJob], whole: [Int], partial: [Int])
    }

    /// Decides refund `refundID` (the REST refund object `refund`) of the order in `payload`. `everyRefund` is
    /// nil on the first call; when the outcome is `.needsEveryRefund`, call again with every refund object of
    /// the order (this one among them).
    public static func decide(_ payload: WooRefundJobPayload, refundID: Int, refund: JSONValue, everyRefund: [JSONValue]?)
        -> Outcome {
        let inThisRefund = refundedQuantities(refund)
        if inThisRefund.isEmpty {
            return .settled("refund \(refundID) is by amount only: no line refunded, nothing to unenroll")
        }
        let touched = payload.lines.filter { inThisRefund[$0.lineID] != nil }
        if touched.isEmpty { return .settled("refund \(refundID) covers no course line") }
        // A line is unenrolled only when all its seats are refunded, possibly over several refunds.
        var totals = inThisRefund
        if touched.contains(where: { inThisRefund[$0.lineID]! < $0.quantity }) {
            guard let everyRefund else { return .needsEveryRefund }
            totals = [:]
            for other in everyRefund {
                for (line, quantity) in refundedQuantities(other) { totals[line, default: 0] += quantity }
            }
        }
        // A line sold as codes never enrolled anyone: each refunded seat voids one of its codes, so the count matters
        // even when it is not the whole line.
        let seats = touched.filter(\.codes).map { line in
            SeatRefund(SeatGrant(store: payload.store, orderID: payload.orderID, orderNumber: payload.orderNumber, lineID: line.lineID,
                                 courseID: line.courseID, mode: line.mode, seats: line.quantity, buyerEmail: payload.email),
                       refunded: totals[line.lineID] ?? 0)
        }
        let enrolled = touched.filter { !$0.codes }
        let whole = enrolled.filter { (totals[$0.lineID] ?? 0) >= $0.quantity }
        let partial = enrolled.filter { (totals[$0.lineID] ?? 0) < $0.quantity }
        if whole.isEmpty {
            if !seats.isEmpty { return .refundSeats(seats, jobs: [], whole: [], partial: partial.map(\.lineID)) }
            return .settled("refund \(refundID) refunds part of lines \(partial.map(\.lineID)); enrollments kept")
        }
        guard let email = payload.email else {
            return .cannotUnenroll("order \(payload.orderNumber) has no billing email: cannot unenroll lines \(whole.map(\.lineID))")
        }
        let jobs = whole.map { line in
            ConditionalJob(
                NewJob(kind: .unenroll, dedupeKey: WooKeys.unenroll(store: payload.store, order: payload.orderID, line: line.lineID),
                       serialKey: SerialKey.enrollment(email: email, courseID: line.courseID),
                       payload: UnenrollPayload(email: email, courseID: line.courseID, orderReference: payload.orderNumber).jsonText,
                       source: "woocommerce:\(payload.store)"),
                // Only a line that was enrolled has something to undo.
                requiresDedupeKey: WooKeys.enroll(store: payload.store, order: payload.orderID, line: line.lineID))
        }
        if !seats.isEmpty { return .refundSeats(seats, jobs: jobs, whole: whole.map(\.lineID), partial: partial.map(\.lineID)) }
        return .unenroll(jobs: jobs, whole: whole.map(\.lineID), partial: partial.map(\.lineID))
    }

    /// Refunded quantity per order line id, from a REST refund object (quantities there are negative; a refunded
    /// line without a quantity counts as one seat).
    public static func refundedQuantities(_ refund: JSONValue) -> [Int: Int] {
        var result: [Int: Int] = [:]
        for item in refund["line_items"]?.arrayValue ?? [] {
            let meta = item["meta_data"]?.arrayValue ?? []
            guard let idText = meta.first(where: { $0["key"]?.stringValue == "_refunded_item_id" })?["value"]?.stringValue,
                  let lineID = Int(idText) else { continue }
            let quantity = abs(Int(item["quantity"]?.stringValue ?? "") ?? 0)
            result[lineID, default: 0] += max(quantity, 1)
        }
        return result
    }

    /// Money given back per order line id, from a REST refund object (line totals there are negative): what the
    /// reports attribute to each line instead of spreading the refund over the order.
    public static func refundedAmounts(_ refund: JSONValue) -> [Int: Decimal] {
        var result: [Int: Decimal] = [:]
        for item in refund["line_items"]?.arrayValue ?? [] {
            let meta = item["meta_data"]?.arrayValue ?? []
            guard let idText = meta.first(where: { $0["key"]?.stringValue == "_refunded_item_id" })?["value"]?.stringValue,
                  let lineID = Int(idText), let total = item["total"]?.stringValue.flatMap(Money.parse) else { continue }
            result[lineID, default: 0] += abs(total)
        }
        return result.filter { $0.value > 0 }
    }
}
