import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// Priced codes' seats held while learners pay, read and written inside the caller's transaction: the hold
/// and its order are made in the redemption's commit, and completed or released in the payment's.
enum CodeHoldTable {
    /// Learners holding the code's seat now (holds not lapsed), with their orders.
    static func live(_ code: RegistrationCode, now: Date, in db: Database) throws -> [(email: String, order: String)] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT email, order_ref FROM code_holds WHERE code = ? AND state = 'held' AND expires_at > ?
            """), arguments: [code.value, StoredDate.text(now)]).map { ($0["email"], $0["order_ref"]) }
    }

    /// Makes the order for the code's price and holds the seat for the learner until it is paid or lapses.
    static func hold(_ record: CodeRecord, email: String, checkout: CodeCheckout, now: Date, in db: Database) throws -> NewOrder {
        var order = NewOrder(reference: checkout.newReference(), email: email, currency: record.currency ?? "USD", total: record.price,
                             items: [OrderFulfilment.codeItem(courseID: record.courseID, mode: record.mode, price: record.price)],
                             profileID: checkout.profileID, createdBy: checkout.createdBy)
        // A reference drawn twice (12 hex digits) is drawn again.
        while try Bool.fetchOne(db, sql: "SELECT 1 FROM orders WHERE reference = ?", arguments: [order.reference]) == true {
            order.reference = checkout.newReference()
        }
        try OrderTable.insert(order, now: now, in: db)
        try db.execute(sql: "INSERT INTO code_holds (order_ref, code, email, expires_at) VALUES (?, ?, ?, ?)",
                       arguments: [order.reference, record.code.value, email, StoredDate.text(now.addingTimeInterval(checkout.hold))])
        return order
    }

    /// The order paid: the held redemption is recorded with its enroll job, whether or not the hold lapsed,
    /// unless another learner has the seat now; then the order needs a person (`code_unavailable`). Returns
    /// the enroll job, if one was made; nil also for an order that held no seat.
    static func complete(order reference: String, deliveryID: Int64?, maxAttempts: Int, now: Date, in db: Database) throws -> [EnqueuedJob] {
        guard let row = try Row.fetchOne(db, sql: "SELECT code, email, state, expires_at FROM code_holds WHERE order_ref = ? AND state IN ('held', 'released')",
                                         arguments: [reference]),
              case .success(let code) = RegistrationCode.parse(row["code"] as String),
              let record = try CodeTable.record(code, in: db) else { return [] }
        let email: String = row["email"]
        var facts = record.facts
        facts.heldBy = try live(code, now: now, in: db).map(\.email)
        facts.contract = try ContractTables.gate(for: record, email: email, now: now, in: db)
        // A hold still live when its payment arrives had its place under the contract's cap reserved.
        if (row["state"] as String) == "held", (row["expires_at"] as Date) > now { facts.contract?.isLearner = true }
        switch RedemptionRules.completePaid(facts, email: email) {
        case .redeem:
            let jobs = try CodeTable.recordRedemption(record, email: email, orderReference: reference, deliveryID: deliveryID,
                                                      maxAttempts: maxAttempts, now: now, in: db)
            try setState("redeemed", order: reference, in: db)
            return jobs
        case .alreadyRedeemed:
            try setState("redeemed", order: reference, in: db)
            return []
        case .refused, .paymentRequired, .paymentPending:
            try setState("lapsed", order: reference, in: db)
            try db.execute(sql: "UPDATE orders SET attention = ?, updated_at = ? WHERE reference = ?",
                           arguments: [OrderAttention.codeUnavailable.rawValue, now, reference])
            return []
        }
    }

    /// The order will not be paid (declined, cancelled, rejected): the seat goes back at once.
    static func release(order reference: String, in db: Database) throws {
        try db.execute(sql: "UPDATE code_holds SET state = 'released' WHERE order_ref = ? AND state = 'held'", arguments: [reference])
    }

    private static func setState(_ state: String, order reference: String, in db: Database) throws {
        try db.execute(sql: "UPDATE code_holds SET state = ? WHERE order_ref = ?", arguments: [state, reference])
    }
}

/// Orders as rows, inside the caller's transaction.
enum OrderTable {
    static func insert(_ order: NewOrder, now: Date, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO orders (reference, email, currency, total, items, status, profile_id, created_at, updated_at, created_by, coupon)
            VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)
            """, arguments: [order.reference, order.email, order.currency, Money.format(order.total), try JSONText.encode(order.items),
                             order.profileID, now, now, order.createdBy, order.coupon])
    }
}
