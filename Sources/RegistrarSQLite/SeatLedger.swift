import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// A seat line's codes, brought in line with the seats it holds inside the transaction that records the order's
/// delivery: new codes (and a mail to the buyer listing them), or unredeemed ones voided newest first. Seats
/// taken back beyond the unredeemed codes leave the redeemed ones alone and say so: nobody is unenrolled
/// without an operator's `codes revoke`.
enum SeatLedger {
    /// A WooCommerce seat line.
    static func apply(_ grant: SeatGrant, deliveryID: Int64?, maxAttempts: Int, now: Date, in db: Database) throws -> [String] {
        try apply(Seats(sourceReference: grant.sourceReference, courseID: grant.courseID, mode: grant.mode, seats: grant.seats,
                        buyerEmail: grant.buyerEmail, orderNumber: grant.orderNumber, lineID: grant.lineID,
                        actor: "woocommerce:\(grant.store)",
                        mailKey: { WooKeys.seatCodes(store: grant.store, order: grant.orderID, line: grant.lineID, liveAfter: $0) }),
                  deliveryID: deliveryID, maxAttempts: maxAttempts, now: now, in: db)
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
        /// The mail job's dedupe key, given the line's live codes after the batch.
        var mailKey: (Int) -> String
    }

    static func apply(_ grant: Seats, deliveryID: Int64?, maxAttempts: Int, now: Date, in db: Database) throws -> [String] {
        let live = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT c.id, c.code, (SELECT group_concat(r.email, ' ') FROM code_redemptions r WHERE r.code = c.code) AS redeemed_by
            FROM codes c INDEXED BY codes_source WHERE c.source = 'order' AND c.source_ref = ? AND c.state <> 'void' ORDER BY c.id
            """), arguments: [grant.sourceReference]).compactMap { row -> SeatRules.LiveCode? in
            guard case .success(let code) = RegistrationCode.parse(row["code"] as String) else { return nil }
            let redeemed = (row["redeemed_by"] as String?)?.split(separator: " ").map(String.init) ?? []
            return SeatRules.LiveCode(id: row["id"], code: code, redeemedBy: redeemed)
        }
        let plan = SeatRules.plan(seats: grant.seats, live: live)
        var notes: [String] = []
        let line = "line \(grant.lineID) (\(grant.courseID))"
        if plan.create > 0 {
            let made = try CodeTable.create(NewCodes(count: plan.create, courseID: grant.courseID, mode: grant.mode, source: "order",
                                                     sourceReference: grant.sourceReference), now: now, in: db)
            notes.append("\(line): \(made.count == 1 ? "1 code" : "\(made.count) codes") for the buyer to hand out (\(live.count + made.count) in all)")
            if let email = grant.buyerEmail {
                let mail = CodesMailPayload(to: email, orderNumber: grant.orderNumber, courseID: grant.courseID, mode: grant.mode,
                                            codes: made.map(\.code.grouped))
                _ = try JobTable.insert([NewJob(kind: .mail, dedupeKey: grant.mailKey(live.count + made.count),
                                                payload: mail.jsonText, source: grant.actor)],
                                        deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
            } else {
                notes.append("\(line): the order has no billing email, so its codes are only in `registrar codes list --order \(grant.sourceReference)`")
            }
        }
        if !plan.void.isEmpty {
            let reason = grant.seats == 0 ? "order \(grant.orderNumber) refunded" : "order \(grant.orderNumber) now has \(grant.seats) seats on line \(grant.lineID)"
            for code in plan.void {
                try db.execute(sql: """
                    UPDATE codes SET state = 'void', void_reason = ?, voided_at = ?, voided_by = ? WHERE code = ? AND state <> 'void'
                    """, arguments: [reason, StoredDate.text(now), grant.actor, code.value])
            }
            notes.append("\(line): \(plan.void.count == 1 ? "1 unredeemed code" : "\(plan.void.count) unredeemed codes") voided (\(reason))")
        }
        if !plan.redeemedBeyond.isEmpty {
            let who = plan.redeemedBeyond.map { "\($0.code) by \($0.redeemedBy.joined(separator: ", "))" }.joined(separator: "; ")
            notes.append("refund_exceeds_unredeemed_seats: \(line) gave back \(plan.redeemedBeyond.count) more seats than it has unredeemed codes; redeemed: \(who); nobody was unenrolled (registrar codes revoke CODE --email E)")
        }
        return notes
    }
}
