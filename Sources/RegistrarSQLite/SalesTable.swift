import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// The `sales` and `refunds` tables: what was paid and what was given back, written where orders are paid and
/// refunded, read by the reports.
enum SalesTable {
    /// Records paid lines: one row per order, appended. A hosted-checkout order's row is kept once (a second
    /// payment finds it); a store's lines are passed here only the first time (intake decides which).
    /// `json`: the lines already written as `SaleLine.linesJSON` does, when they are one order's.
    static func record(_ lines: [SaleLine], paidAt: Date, json: String? = nil, in db: Database) throws {
        guard !lines.isEmpty else { return }
        let groups = SaleLine.byOrder(lines)
        let statement = try db.cachedStatement(sql: """
            INSERT INTO sales (source, order_ref, email, currency, paid_at, lines) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """)
        let paid = StoredDate.text(paidAt)
        for group in groups {
            let first = group[0]
            try statement.execute(arguments: [first.source.rawValue, first.orderRef, first.email, first.currency,
                                              paid, groups.count == 1 ? json ?? SaleLine.linesJSON(group) : SaleLine.linesJSON(group)])
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
                                              Money.format(refund.amount), refund.currency, refund.reference, refund.surplus, actor,
                                              StoredDate.text(at)])
            return db.changesCount > 0
        }
    }

    /// A hosted-checkout order's lines (through `sales_checkout`).
    static func checkoutLines(orderRef: String, in db: Database) throws -> [SaleLine] {
        try Row.fetchAll(db, sql: "SELECT * FROM sales WHERE source = 'cybersource' AND order_ref = ?", arguments: [orderRef])
            .flatMap(lines).sorted { $0.line < $1.line }
    }

    /// Adds to each store order's course lines what its customer paid beyond them (other items, tax, shipping),
    /// as a line of its own (`.other`, line 0): a refund by amount is spread over it too.
    static func withOtherItems(_ lines: [SaleLine], in db: Database) throws -> [SaleLine] {
        var byOrder: [String: [SaleLine]] = [:]
        for line in lines where line.source == .woocommerce { byOrder[line.orderRef, default: []].append(line) }
        guard !byOrder.isEmpty else { return lines }
        var result = lines
        let total = try db.cachedStatement(sql: "SELECT total FROM woo_orders WHERE store = ? AND order_id = ?")
        for (orderRef, courseLines) in byOrder {
            guard let colon = orderRef.lastIndex(of: ":"), let id = Int(orderRef[orderRef.index(after: colon)...]),
                  let text = try String.fetchOne(total, arguments: [String(orderRef[..<colon]), id]), let paid = Money.parse(text)
            else { continue }
            let courses = courseLines.reduce(Decimal(0)) { $0 + $1.net }
            guard paid > courses, let first = courseLines.first else { continue }
            result.append(SaleLine(source: .woocommerce, orderRef: orderRef, line: 0, courseID: "", email: first.email, quantity: 0,
                                   fulfilment: .other, gross: paid - courses, currency: first.currency, paidAt: first.paidAt))
        }
        return result
    }

    static func refunds(source: SaleLine.Source, orderRef: String, in db: Database) throws -> [RefundRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM refunds WHERE order_source = ? AND order_ref = ? ORDER BY id",
                         arguments: [source.rawValue, orderRef]).map(refund)
    }

    /// The lines of one row.
    static func lines(_ row: Row) throws -> [SaleLine] {
        guard let source = SaleLine.Source(rawValue: row["source"]),
              let lines = SaleLine.lines(json: row["lines"], source: source, orderRef: row["order_ref"], email: row["email"],
                                         currency: row["currency"], paidAt: row["paid_at"]) else {
            throw StoreError.corrupt("sales holds unreadable lines of \(row["order_ref"] as String? ?? "?")")
        }
        return lines
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
