import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: CouponBook {
    public func createCoupon(_ coupon: Coupon, description: String?, actor: String) async throws {
        let now = clock.now()
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM coupons WHERE code = ?", arguments: [coupon.code]) == true {
                throw CouponError.codeTaken(coupon.code)
            }
            let (kind, value, currency): (String, Decimal, String?) = switch coupon.kind {
            case .percent(let percent): ("percent", percent, nil)
            case .amount(let amount, let currency): ("amount", amount, currency)
            }
            try db.execute(sql: """
                INSERT INTO coupons (code, kind, value, currency, courses, expires, max_uses, active, description, created_at, created_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [coupon.code, kind, "\(value)", currency, try JSONText.encode(coupon.courses), coupon.expires,
                                 coupon.maxUses, coupon.active, description, now, actor])
            let limits = [coupon.courses.isEmpty ? nil : "for " + coupon.courses.joined(separator: ", "),
                          coupon.expires.map { "until \($0)" }, coupon.maxUses.map { "\($0) uses" }].compactMap { $0 }
            try Self.audit(actor: actor, action: "coupon.create", jobID: nil,
                           detail: "coupon \(coupon.code): \(coupon.off) off" + (limits.isEmpty ? "" : ", " + limits.joined(separator: ", ")),
                           at: now, in: db)
        }
    }

    public func coupons() async throws -> [CouponRecord] {
        let now = clock.now()
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM coupons ORDER BY created_at DESC, code").map {
                try CouponUseTable.record($0, now: now, in: db)
            }
        }
    }

    public func coupon(code: String) async throws -> CouponRecord? {
        let now = clock.now()
        let normalized = CouponDefinition.normalizedCode(code) ?? code
        return try await read { db in try CouponUseTable.coupon(normalized, now: now, in: db) }
    }

    public func deactivateCoupon(code: String, actor: String) async throws -> CouponRecord {
        let now = clock.now()
        let normalized = CouponDefinition.normalizedCode(code) ?? code
        return try await write { db -> CouponRecord in
            try db.execute(sql: "UPDATE coupons SET active = 0 WHERE code = ? AND active = 1", arguments: [normalized])
            let changed = db.changesCount > 0
            guard let record = try CouponUseTable.coupon(normalized, now: now, in: db) else { throw CouponError.notFound(normalized) }
            // Deactivating it again changes nothing, so nothing is audited.
            if changed { try Self.audit(actor: actor, action: "coupon.deactivate", jobID: nil, detail: "coupon \(normalized)", at: now, in: db) }
            return record
        }
    }
}
