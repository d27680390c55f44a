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
        let seats = SeatLine(grant, refunded: refunded)
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

    static func apply(_ grant: SeatLine, deliveryID: Int64?, maxAttempts: Int, now: Date, in db: Database) throws -> Outcome {
        let live = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT c.id, c.code, (SELECT group_concat(r.email, ' ') FROM code_redemptions r WHERE r.code = c.code) AS redeemed_by
            FROM codes c INDEXED BY codes_source WHERE c.source = 'order' AND c.source_ref = ? AND c.state <> 'void' ORDER BY c.id
            """), arguments: [grant.sourceReference]).compactMap { row -> SeatRules.LiveCode? in
            guard case .success(let code) = RegistrationCode.parse(row["code"] as String) else { return nil }
            let redeemed = (row["redeemed_by"] as String?)?.split(separator: " ").map(String.init) ?? []
            return SeatRules.LiveCode(id: row["id"], code: code, redeemedBy: redeemed)
        }
        let plan = SeatRules.plan(seats: grant.seats, live: live)
        var made: [CodeRecord] = []
        if plan.create > 0 {
            made = try CodeTable.create(NewCodes(count: plan.create, courseID: grant.courseID, mode: grant.mode, source: "order",
                                                 sourceReference: grant.sourceReference), now: now, in: db)
            if let email = grant.buyerEmail {
                _ = try JobTable.insert([grant.mailJob(to: email, made: made.map(\.code), liveAfter: live.count + made.count)],
                                        deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
            }
        }
        if !plan.void.isEmpty { try CodeTable.void(plan.void, reason: grant.voidReason, actor: grant.actor, now: now, in: db) }
        let report = grant.report(plan: plan, made: made.count, liveBefore: live.count)
        return Outcome(notes: report.notes, shortfall: report.shortfall)
    }
}
