import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// Coupons and their uses, read and written inside the caller's transaction: a use is reserved in the order's
/// commit and kept or released in its payment's.
enum CouponUseTable {
    /// The coupon named by an order, checked against its uses now, and the order's items and total with its
    /// discount; the use is reserved for the order until `hold` from now. Throws `OrderError.coupon`.
    static func reserve(_ typed: String, for order: NewOrder, now: Date, in db: Database) throws -> (items: [OrderItem], total: Decimal, code: String) {
        let code = CouponDefinition.normalizedCode(typed) ?? typed
        let record = try coupon(code, now: now, in: db)
        let day = Timestamp.format(now).prefix(10)
        switch CouponRules.apply(record?.coupon, code: code, to: order.items, currency: order.currency, day: String(day),
                                 uses: record?.uses ?? 0) {
        case .failure(let refusal):
            throw OrderError.coupon(refusal)
        case .success(let priced):
            try db.execute(sql: "INSERT INTO coupon_uses (order_ref, code, state, expires_at, created_at) VALUES (?, ?, 'held', ?, ?)",
                           arguments: [order.reference, code, StoredDate.text(now.addingTimeInterval(order.couponHold)), now])
            return (priced.items, priced.total, code)
        }
    }

    /// The order was paid or is held for review: its use counts for good, whether or not its hold lapsed (a
    /// learner who paid keeps the discount they were shown).
    static func keep(order reference: String, in db: Database) throws {
        try db.execute(sql: "UPDATE coupon_uses SET state = 'kept' WHERE order_ref = ? AND state <> 'kept'", arguments: [reference])
    }

    /// The order will not be paid (declined, cancelled, or rejected after a review): the use goes back at once.
    static func release(order reference: String, in db: Database) throws {
        try db.execute(sql: "UPDATE coupon_uses SET state = 'released' WHERE order_ref = ? AND state <> 'released'", arguments: [reference])
    }

    static func coupon(_ code: String, now: Date, in db: Database) throws -> CouponRecord? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM coupons WHERE code = ?"), arguments: [code]) else {
            return nil
        }
        return try record(row, now: now, in: db)
    }

    static func record(_ row: Row, now: Date, in db: Database) throws -> CouponRecord {
        let code: String = row["code"]
        let kindText: String = row["kind"]
        let valueText: String = row["value"]
        guard let value = Money.parse(valueText) else { throw StoreError.corrupt("coupon \(code) holds value \"\(valueText)\"") }
        let kind: Coupon.Kind
        switch kindText {
        case "percent": kind = .percent(value)
        case "amount": kind = .amount(value, currency: row["currency"] ?? "")
        default: throw StoreError.corrupt("coupon \(code) has kind \"\(kindText)\"")
        }
        let coupon = Coupon(code: code, kind: kind, courses: try JSONText.decode([String].self, from: row["courses"]),
                            expires: row["expires"], maxUses: row["max_uses"], active: row["active"])
        let used = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM coupon_uses WHERE code = ? AND state = 'kept'"),
                                    arguments: [code]) ?? 0
        let held = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*) FROM coupon_uses WHERE code = ? AND state = 'held' AND expires_at > ?
            """), arguments: [code, StoredDate.text(now)]) ?? 0
        return CouponRecord(coupon: coupon, description: row["description"], createdAt: row["created_at"], createdBy: row["created_by"],
                            used: used, held: held)
    }
}
