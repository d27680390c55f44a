import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: PriceList {
    public func setPrice(_ price: ListedPrice, actor: String) async throws -> ListedPrice? {
        let now = clock.now()
        return try await write { db -> ListedPrice? in
            let before = try Self.prices(course: price.courseID, mode: price.mode, currency: price.currency, in: db).first
            try db.execute(sql: """
                INSERT INTO prices (course_id, mode, currency, price, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (course_id, mode, currency) DO UPDATE SET price = excluded.price, updated_at = excluded.updated_at,
                                                                      updated_by = excluded.updated_by
                """, arguments: [price.courseID, price.mode, price.currency, Money.format(price.price), now, actor])
            let was = before.map { " (was \(Money.format($0.price)))" } ?? ""
            try Self.audit(actor: actor, action: "price.set", jobID: nil,
                           detail: "\(price.courseID) \(price.mode): \(Money.format(price.price)) \(price.currency)\(was)", at: now, in: db)
            return before
        }
    }

    public func removePrices(courseID: String, mode: String, currency: String?, actor: String) async throws -> [ListedPrice] {
        let now = clock.now()
        return try await write { db -> [ListedPrice] in
            let removed = try Self.prices(course: courseID, mode: mode, currency: currency?.uppercased(), in: db)
            for price in removed {
                try db.execute(sql: "DELETE FROM prices WHERE course_id = ? AND mode = ? AND currency = ?",
                               arguments: [price.courseID, price.mode, price.currency])
                try Self.audit(actor: actor, action: "price.remove", jobID: nil,
                               detail: "\(price.courseID) \(price.mode): \(Money.format(price.price)) \(price.currency) removed", at: now, in: db)
            }
            return removed
        }
    }

    public func prices(courseIDs: [String]?) async throws -> [ListedPrice] {
        try await read { db in
            guard let courseIDs else {
                return try Row.fetchAll(db, sql: "SELECT course_id, mode, currency, price FROM prices ORDER BY course_id, mode, currency")
                    .map(Self.listedPrice)
            }
            return try Set(courseIDs).sorted().flatMap { course in
                try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT course_id, mode, currency, price FROM prices WHERE course_id = ? ORDER BY mode, currency
                    """), arguments: [course]).map(Self.listedPrice)
            }
        }
    }

    private static func prices(course: String, mode: String, currency: String?, in db: Database) throws -> [ListedPrice] {
        try Row.fetchAll(db, sql: """
            SELECT course_id, mode, currency, price FROM prices WHERE course_id = ? AND mode = ? AND (? IS NULL OR currency = ?)
            ORDER BY currency
            """, arguments: [course, mode, currency, currency]).map(listedPrice)
    }

    private static func listedPrice(_ row: Row) throws -> ListedPrice {
        let text: String = row["price"]
        guard let price = Money.parse(text) else { throw StoreError.corrupt("prices holds \"\(text)\"") }
        return ListedPrice(courseID: row["course_id"], mode: row["mode"], currency: row["currency"], price: price)
    }
}
