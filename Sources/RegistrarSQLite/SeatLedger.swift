import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// A seat line's codes, brought in line with the seats it holds inside the transaction that records the order's
/// delivery: new codes (and a mail to the buyer listing them), or unredeemed ones voided newest first. Seats
/// taken back beyond the unredeemed codes leave the redeemed ones alone and say so: nobody is unenrolled
/// without an operator's `codes revoke`.
enum SeatLedger {
    /// What bringing a line's codes in line did.
    struct Outcome {
        /// For the delivery's or job's record.
        var notes: [String] = []
        /// Set when seats were taken back beyond the unredeemed codes: the order needs an operator.
        var shortfall: String?
    }

    /// A WooCommerce seat line, less the seats its refunds gave back (a partial refund leaves the line's quantity
    /// as it was). A shortfall flags the order for attention until an operator dismisses it; the same shortfall
    /// seen again by a later delivery does not raise it again.
    static func apply(_ grant: SeatGrant, deliveryID: Int64?, maxAttempts: Int, now: Date, in db: Database) throws -> [String] {
        let refunded = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT seats FROM woo_seat_refunds WHERE store = ? AND order_id = ? AND line_id = ?
            """), arguments: [grant.store, grant.orderID, grant.lineID]) ?? 0
        let reason = grant.seats == 0 ? "order \(grant.orderNumber) refunded"
            : refunded > 0 ? "order \(grant.orderNumber): \(refunded) of the \(grant.seats) seats of line \(grant.lineID) refunded"
            : "order \(grant.orderNumber) now has \(grant.seats) seats on line \(grant.lineID)"
        let seats = Seats(sourceReference: grant.sourceReference, courseID: grant.courseID, mode: grant.mode,
                          seats: max(0, grant.seats - refunded), buyerEmail: grant.buyerEmail, orderNumber: grant.orderNumber,
                          lineID: grant.lineID, actor: "woocommerce:\(grant.store)", voidReason: reason,
                          mailKey: { WooKeys.seatCodes(store: grant.store, order: grant.orderID, line: grant.lineID, liveAfter: $0) })
        let outcome = try apply(seats, deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
        if let shortfall = outcome.shortfall {
            try db.execute(sql: """
                UPDATE woo_orders SET attention = ?, attention_detail = ?, attention_at = ?
                WHERE store = ? AND order_id = ? AND attention_detail IS NOT ?
                """, arguments: [OrderAttention.refundExceedsUnredeemedSeats.rawValue, shortfall, StoredDate.text(now),
                                 grant.store, grant.orderID, shortfall])
        }
        return outcome.notes
    }

    /// Records the seats refunds gave back on a line (never fewer than recorded before: an older count read from
    /// the store changes nothing) and brings its codes in line.
    static func refund(_ refund: SeatRefund, deliveryID: Int64?, maxAttempts: Int, now: Date, in db: Database) throws -> [String] {
        try db.execute(sql: """
            INSERT INTO woo_seat_refunds (store, order_id, line_id, seats, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(store, order_id, line_id) DO UPDATE SET seats = MAX(seats, excluded.seats), updated_at = excluded.updated_at
            """, arguments: [refund.grant.store, refund.grant.orderID, refund.grant.lineID, refund.refunded, StoredDate.text(now)])
        return try apply(refund.grant, deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
    }

    /// One order line's seats, whatever sold them.
    struct Seats {
        var sourceReference: String
        var courseID: String
        var mode: String?
        var seats: Int
        var buyerEmail: String?
        var orderNumber: String
        var lineID: Int
        /// Who voids surplus codes, for the record.
        var actor: String
        /// Why surplus codes are voided.
        var voidReason: String
        /// The mail job's dedupe key, given the line's live codes after the batch.
        var mailKey: (Int) -> String
    }

    static func apply(_ grant: Seats, deliveryID: Int64?, maxAttempts: Int, now: Date, in db: Database) throws -> Outcome {
        let live = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT c.id, c.code, (SELECT group_concat(r.email, ' ') FROM code_redemptions r WHERE r.code = c.code) AS redeemed_by
            FROM codes c INDEXED BY codes_source WHERE c.source = 'order' AND c.source_ref = ? AND c.state <> 'void' ORDER BY c.id
            """), arguments: [grant.sourceReference]).compactMap { row -> SeatRules.LiveCode? in
            guard case .success(let code) = RegistrationCode.parse(row["code"] as String) else { return nil }
            let redeemed = (row["redeemed_by"] as String?)?.split(separator: " ").map(String.init) ?? []
            return SeatRules.LiveCode(id: row["id"], code: code, redeemedBy: redeemed)
        }
        let plan = SeatRules.plan(seats: grant.seats, live: live)
        var outcome = Outcome()
        let line = "line \(grant.lineID) (\(grant.courseID))"
        if plan.create > 0 {
            let made = try CodeTable.create(NewCodes(count: plan.create, courseID: grant.courseID, mode: grant.mode, source: "order",
                                                     sourceReference: grant.sourceReference), now: now, in: db)
            outcome.notes.append("\(line): \(made.count == 1 ? "1 code" : "\(made.count) codes") for the buyer to hand out (\(live.count + made.count) in all)")
            if let email = grant.buyerEmail {
                let mail = CodesMailPayload(to: email, orderNumber: grant.orderNumber, courseID: grant.courseID, mode: grant.mode,
                                            codes: made.map(\.code.grouped))
                _ = try JobTable.insert([NewJob(kind: .mail, dedupeKey: grant.mailKey(live.count + made.count),
                                                payload: mail.jsonText, source: grant.actor)],
                                        deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
            } else {
                outcome.notes.append("\(line): the order has no billing email, so its codes are only in `registrar codes list --order \(grant.sourceReference)`")
            }
        }
        if !plan.void.isEmpty {
            try CodeTable.void(plan.void, reason: grant.voidReason, actor: grant.actor, now: now, in: db)
            outcome.notes.append("\(line): \(plan.void.count == 1 ? "1 unredeemed code" : "\(plan.void.count) unredeemed codes") voided (\(grant.voidReason))")
        }
        if !plan.redeemedBeyond.isEmpty {
            func summary(_ show: (RegistrationCode) -> String) -> String {
                let who = plan.redeemedBeyond.map { "\(show($0.code)) by \($0.redeemedBy.joined(separator: ", "))" }
                let count = plan.redeemedBeyond.count
                return "\(line) gave back \(count) more \(count == 1 ? "seat" : "seats") than it has unredeemed codes; redeemed: \(who.joined(separator: "; ")); nobody was unenrolled (registrar codes revoke CODE --email E)"
            }
            // The flag, for operators, names the codes whole; the note lands in delivery records and logs.
            outcome.shortfall = summary(\.grouped)
            outcome.notes.append("\(OrderAttention.refundExceedsUnredeemedSeats.rawValue): \(summary(\.logSafe))")
        }
        return outcome
    }
}
