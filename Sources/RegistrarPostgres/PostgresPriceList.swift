import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: PriceList {
    public func setPrice(_ price: ListedPrice, actor: String) async throws -> ListedPrice? {
        try await write { tx -> ListedPrice? in
            try await tx.lock("prices")
            let before = try await Self.prices(course: price.courseID, mode: price.mode, currency: price.currency, in: tx).first
            try await tx.run("""
                INSERT INTO prices (course_id, mode, currency, price, updated_at, updated_by)
                VALUES (\(price.courseID), \(price.mode), \(price.currency), \(Money.format(price.price)), \(tx.now), \(actor))
                ON CONFLICT (course_id, mode, currency) DO UPDATE SET price = excluded.price, updated_at = excluded.updated_at,
                                                                      updated_by = excluded.updated_by
                """)
            let was = before.map { " (was \(Money.format($0.price)))" } ?? ""
            try await tx.audit(actor: actor, action: "price.set", jobID: nil,
                               detail: "\(price.courseID) \(price.mode): \(Money.format(price.price)) \(price.currency)\(was)")
            return before
        }
    }

    public func removePrices(courseID: String, mode: String, currency: String?, actor: String) async throws -> [ListedPrice] {
        try await write { tx -> [ListedPrice] in
            try await tx.lock("prices")
            let removed = try await Self.prices(course: courseID, mode: mode, currency: currency?.uppercased(), in: tx)
            for price in removed {
                try await tx.run("DELETE FROM prices WHERE course_id = \(price.courseID) AND mode = \(price.mode) AND currency = \(price.currency)")
                try await tx.audit(actor: actor, action: "price.remove", jobID: nil,
                                   detail: "\(price.courseID) \(price.mode): \(Money.format(price.price)) \(price.currency) removed")
            }
            return removed
        }
    }

    public func prices(courseIDs: [String]?) async throws -> [ListedPrice] {
        try await snapshot { tx in
            guard let courseIDs else {
                return try await tx.rows("SELECT course_id, mode, currency, price FROM prices ORDER BY course_id, mode, currency")
                    .map(Self.listedPrice)
            }
            return try await tx.rows("""
                SELECT course_id, mode, currency, price FROM prices WHERE course_id = ANY(\(Array(Set(courseIDs))))
                ORDER BY course_id, mode, currency
                """).map(Self.listedPrice)
        }
    }

    private static func prices(course: String, mode: String, currency: String?, in tx: Tx) async throws -> [ListedPrice] {
        try await tx.rows("""
            SELECT course_id, mode, currency, price FROM prices
            WHERE course_id = \(course) AND mode = \(mode) AND (\(currency)::text IS NULL OR currency = \(currency))
            ORDER BY currency
            """).map(listedPrice)
    }

    private static func listedPrice(_ r: PostgresRandomAccessRow) throws -> ListedPrice {
        let text: String = try r.value("price")
        guard let price = Money.parse(text) else { throw StoreError.corrupt("prices holds \"\(text)\"") }
        return ListedPrice(courseID: try r.value("course_id"), mode: try r.value("mode"), currency: try r.value("currency"), price: price)
    }
}

extension PostgresStore: CouponBook {
    public func createCoupon(_ coupon: Coupon, description: String?, actor: String) async throws {
        let courses = try JSONText.encode(coupon.courses)
        try await write { tx in
            try await tx.lock("coupon:" + coupon.code)
            if try await tx.exists("SELECT 1 FROM coupons WHERE code = \(coupon.code)") { throw CouponError.codeTaken(coupon.code) }
            let (kind, value, currency): (String, Decimal, String?) = switch coupon.kind {
            case .percent(let percent): ("percent", percent, nil)
            case .amount(let amount, let currency): ("amount", amount, currency)
            }
            try await tx.run("""
                INSERT INTO coupons (code, kind, value, currency, courses, expires, max_uses, active, description, created_at, created_by)
                VALUES (\(coupon.code), \(kind), \("\(value)"), \(currency), \(courses), \(coupon.expires), \(coupon.maxUses),
                        \(coupon.active), \(description), \(tx.now), \(actor))
                """)
            let limits = [coupon.courses.isEmpty ? nil : "for " + coupon.courses.joined(separator: ", "),
                          coupon.expires.map { "until \($0)" }, coupon.maxUses.map { "\($0) uses" }].compactMap { $0 }
            try await tx.audit(actor: actor, action: "coupon.create", jobID: nil,
                               detail: "coupon \(coupon.code): \(coupon.off) off" + (limits.isEmpty ? "" : ", " + limits.joined(separator: ", ")))
        }
    }

    public func coupons() async throws -> [CouponRecord] {
        try await snapshot { tx in
            var records: [CouponRecord] = []
            for row in try await tx.rows("SELECT * FROM coupons ORDER BY created_at DESC, code") {
                records.append(try await CouponUses.record(row, in: tx))
            }
            return records
        }
    }

    public func coupon(code: String) async throws -> CouponRecord? {
        let normalized = CouponDefinition.normalizedCode(code) ?? code
        return try await snapshot { tx in try await CouponUses.coupon(normalized, in: tx) }
    }

    public func deactivateCoupon(code: String, actor: String) async throws -> CouponRecord {
        let normalized = CouponDefinition.normalizedCode(code) ?? code
        return try await write { tx -> CouponRecord in
            let changed = try await tx.exists("UPDATE coupons SET active = false WHERE code = \(normalized) AND active RETURNING 1")
            guard let record = try await CouponUses.coupon(normalized, in: tx) else { throw CouponError.notFound(normalized) }
            // Deactivating it again changes nothing, so nothing is audited.
            if changed { try await tx.audit(actor: actor, action: "coupon.deactivate", jobID: nil, detail: "coupon \(normalized)") }
            return record
        }
    }
}

/// Coupons and their uses inside the caller's transaction: a use is reserved in the order's commit and kept or
/// released in its payment's. Reservations of one coupon are SERIALIZABLE transactions that all read its uses, so
/// two racing for its last use cannot both commit.
enum CouponUses {
    static func reserve(_ typed: String, for order: NewOrder, in tx: Tx) async throws -> (items: [OrderItem], total: Decimal, code: String) {
        let code = CouponDefinition.normalizedCode(typed) ?? typed
        let record = try await coupon(code, lock: true, in: tx)
        let day = Timestamp.format(tx.now).prefix(10)
        switch CouponRules.apply(record?.coupon, code: code, to: order.items, currency: order.currency, day: String(day),
                                 uses: record?.uses ?? 0) {
        case .failure(let refusal):
            throw OrderError.coupon(refusal)
        case .success(let priced):
            try await tx.run("""
                INSERT INTO coupon_uses (order_ref, code, state, expires_at, created_at)
                VALUES (\(order.reference), \(code), 'held', \(tx.now.addingTimeInterval(order.couponHold)), \(tx.now))
                """)
            return (priced.items, priced.total, code)
        }
    }

    /// The order was paid or is held for review: its use counts for good.
    static func keep(order reference: String, in tx: Tx) async throws {
        try await tx.run("UPDATE coupon_uses SET state = 'kept' WHERE order_ref = \(reference) AND state <> 'kept'")
    }

    /// The order will not be paid: the use goes back at once.
    static func release(order reference: String, in tx: Tx) async throws {
        try await tx.run("UPDATE coupon_uses SET state = 'released' WHERE order_ref = \(reference) AND state <> 'released'")
    }

    /// - Parameter lock: `FOR UPDATE`, for a reservation: racing orders count the coupon's uses one after another.
    static func coupon(_ code: String, lock: Bool = false, in tx: Tx) async throws -> CouponRecord? {
        guard let row = try await tx.row("SELECT * FROM coupons WHERE code = \(code)\(unescaped: lock ? " FOR UPDATE" : "")") else {
            return nil
        }
        return try await record(row, in: tx)
    }

    static func record(_ r: PostgresRandomAccessRow, in tx: Tx) async throws -> CouponRecord {
        let code: String = try r.value("code")
        let kindText: String = try r.value("kind")
        let valueText: String = try r.value("value")
        guard let value = Money.parse(valueText) else { throw StoreError.corrupt("coupon \(code) holds value \"\(valueText)\"") }
        let kind: Coupon.Kind
        switch kindText {
        case "percent": kind = .percent(value)
        case "amount": kind = .amount(value, currency: try r.value("currency", as: String?.self) ?? "")
        default: throw StoreError.corrupt("coupon \(code) has kind \"\(kindText)\"")
        }
        let coupon = Coupon(code: code, kind: kind, courses: try JSONText.decode([String].self, from: try r.value("courses")),
                            expires: try r.value("expires"), maxUses: try r.value("max_uses"), active: try r.value("active"))
        let used = try await tx.value("SELECT count(*) FROM coupon_uses WHERE code = \(code) AND state = 'kept'", as: Int.self) ?? 0
        let held = try await tx.value("""
            SELECT count(*) FROM coupon_uses WHERE code = \(code) AND state = 'held' AND expires_at > \(tx.now)
            """, as: Int.self) ?? 0
        return CouponRecord(coupon: coupon, description: try r.value("description"), createdAt: try r.value("created_at"),
                            createdBy: try r.value("created_by"), used: used, held: held)
    }
}
