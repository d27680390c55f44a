import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// The `sales` and `refunds` tables: what was paid and what was given back, written where orders are paid and
/// refunded, read by the reports.
enum SalesTable {
    /// Records paid lines once: a line already recorded (a delivery seen again) keeps its first record.
    static func record(_ lines: [SaleLine], paidAt: Date, in db: Database) throws {
        guard !lines.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO sales (source, order_ref, line, course_id, mode, email, quantity, fulfilment, gross, discount, currency,
                               paid_at, enroll_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """)
        for line in lines {
            try statement.execute(arguments: [line.source.rawValue, line.orderRef, line.line, line.courseID, line.mode, line.email,
                                              line.quantity, line.fulfilment.rawValue, Money.format(line.gross),
                                              Money.format(line.discount), line.currency, paidAt, line.enrollKey])
        }
    }

    /// Records refunds once per reference. Returns whether each was new.
    @discardableResult
    static func record(_ refunds: [RefundRecord], at: Date, by actor: String, in db: Database) throws -> [Bool] {
        guard !refunds.isEmpty else { return [] }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO refunds (origin, order_source, order_ref, line, amount, currency, reference, surplus, recorded_by, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """)
        return try refunds.map { refund in
            try statement.execute(arguments: [refund.origin.rawValue, refund.orderSource.rawValue, refund.orderRef, refund.line,
                                              Money.format(refund.amount), refund.currency, refund.reference, refund.surplus, actor, at])
            return db.changesCount > 0
        }
    }

    static func lines(source: SaleLine.Source, orderRef: String, in db: Database) throws -> [SaleLine] {
        try Row.fetchAll(db, sql: "SELECT * FROM sales WHERE source = ? AND order_ref = ? ORDER BY line",
                         arguments: [source.rawValue, orderRef]).map(line)
    }

    static func refunds(source: SaleLine.Source, orderRef: String, in db: Database) throws -> [RefundRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM refunds WHERE order_source = ? AND order_ref = ? ORDER BY id",
                         arguments: [source.rawValue, orderRef]).map(refund)
    }

    static func line(_ row: Row) throws -> SaleLine {
        guard let source = SaleLine.Source(rawValue: row["source"]), let fulfilment = SaleLine.Fulfilment(rawValue: row["fulfilment"]),
              let gross = Money.parse(row["gross"]), let discount = Money.parse(row["discount"]) else {
            throw StoreError.corrupt("sales holds an unreadable line of \(row["order_ref"] as String? ?? "?")")
        }
        return SaleLine(source: source, orderRef: row["order_ref"], line: row["line"], courseID: row["course_id"], mode: row["mode"],
                        email: row["email"], quantity: row["quantity"], fulfilment: fulfilment, gross: gross, discount: discount,
                        currency: row["currency"], paidAt: row["paid_at"], enrollKey: row["enroll_key"])
    }

    /// The money the gateway took for a hosted-checkout order: the payment that paid it and any duplicate payment.
    static func taken(orderRef: String, in db: Database) throws -> Decimal {
        try String.fetchAll(db, sql: """
            SELECT p.amount FROM payments p JOIN orders o ON o.reference = p.order_reference
            WHERE p.order_reference = ? AND p.amount IS NOT NULL
              AND (p.transaction_id = o.transaction_id OR p.outcome = 'duplicate_payment')
            GROUP BY p.transaction_id
            """, arguments: [orderRef]).compactMap(Money.parse).reduce(0, +)
    }

    static func refund(_ row: Row) throws -> RefundRecord {
        guard let origin = RefundRecord.Origin(rawValue: row["origin"]), let source = SaleLine.Source(rawValue: row["order_source"]),
              let amount = Money.parse(row["amount"]) else {
            throw StoreError.corrupt("refunds holds an unreadable refund \(row["id"] as Int64? ?? 0)")
        }
        return RefundRecord(origin: origin, orderSource: source, orderRef: row["order_ref"], line: row["line"], amount: amount,
                            currency: row["currency"], reference: row["reference"], at: row["at"], surplus: row["surplus"])
    }
}
