import Foundation

/// `reports revenue`: money per course run and currency. Net is money received minus money returned: single-
/// and multi-seat payments (gross less discounts) plus invoice payments, less refunds. An invoice billed but not
/// paid is not in net. Pure.
public struct RevenueReport: Sendable, Equatable {
    /// An invoice's amounts, with when each was booked.
    public struct InvoiceFact: Sendable, Equatable {
        public var courseID: String
        public var currency: String
        public var total: Decimal
        public var createdAt: Date
        public var voided: Bool
        /// Payments positive, refunds negative.
        public var transactions: [(amount: Decimal, at: Date)]

        public init(courseID: String, currency: String, total: Decimal, createdAt: Date, voided: Bool,
                    transactions: [(amount: Decimal, at: Date)]) {
            self.courseID = courseID
            self.currency = currency
            self.total = total
            self.createdAt = createdAt
            self.voided = voided
            self.transactions = transactions
        }

        public static func == (lhs: InvoiceFact, rhs: InvoiceFact) -> Bool {
            lhs.courseID == rhs.courseID && lhs.currency == rhs.currency && lhs.total == rhs.total && lhs.createdAt == rhs.createdAt
                && lhs.voided == rhs.voided && lhs.transactions.map(\.amount) == rhs.transactions.map(\.amount)
                && lhs.transactions.map(\.at) == rhs.transactions.map(\.at)
        }
    }

    public struct Row: Sendable, Equatable {
        public var courseID: String
        public var currency: String
        public var singleSeatGross: Decimal = 0
        public var multiSeatGross: Decimal = 0
        public var invoicesBilled: Decimal = 0
        public var invoicesPaid: Decimal = 0
        public var discounts: Decimal = 0
        public var refunds: Decimal = 0

        public var net: Decimal { singleSeatGross + multiSeatGross - discounts + invoicesPaid - refunds }
    }

    /// `[from, to)`; nil ends are open.
    public struct Period: Sendable, Equatable {
        public var from: Date?
        public var to: Date?

        public init(from: Date? = nil, to: Date? = nil) {
            self.from = from
            self.to = to
        }

        public func contains(_ date: Date) -> Bool {
            (from.map { date >= $0 } ?? true) && (to.map { date < $0 } ?? true)
        }
    }

    public var rows: [Row]

    /// - Parameters:
    ///   - lines: every recorded line of the orders concerned (refunds of an order are spread over all its lines).
    ///   - courseID: only this course run's rows when given.
    public static func compute(lines: [SaleLine], refunds: [RefundRecord], invoices: [InvoiceFact], courseID: String?,
                               period: Period) -> RevenueReport {
        var rows: [Key: Row] = [:]
        func row(_ course: String, _ currency: String) -> Row {
            rows[Key(course: course, currency: currency)] ?? Row(courseID: course, currency: currency)
        }
        func wanted(_ course: String) -> Bool { courseID == nil || course == courseID }
        for line in lines where line.isCourse && wanted(line.courseID) && period.contains(line.paidAt) {
            var entry = row(line.courseID, line.currency)
            if line.isSingleSeatMoney { entry.singleSeatGross += line.gross } else { entry.multiSeatGross += line.gross }
            entry.discounts += line.discount
            rows[Key(course: line.courseID, currency: line.currency)] = entry
        }
        for share in RefundAllocation.shares(lines: lines, refunds: refunds)
        where share.isCourse && wanted(share.courseID) && period.contains(share.at) {
            var entry = row(share.courseID, share.currency)
            entry.refunds += share.amount
            rows[Key(course: share.courseID, currency: share.currency)] = entry
        }
        for invoice in invoices where wanted(invoice.courseID) {
            var entry = row(invoice.courseID, invoice.currency)
            if !invoice.voided, period.contains(invoice.createdAt) { entry.invoicesBilled += invoice.total }
            for transaction in invoice.transactions where period.contains(transaction.at) {
                if transaction.amount >= 0 { entry.invoicesPaid += transaction.amount } else { entry.refunds -= transaction.amount }
            }
            rows[Key(course: invoice.courseID, currency: invoice.currency)] = entry
        }
        return RevenueReport(rows: rows.values.sorted { ($0.courseID, $0.currency) < ($1.courseID, $1.currency) })
    }

    struct Key: Hashable {
        var course: String
        var currency: String
    }

    static let columns = ["course_id", "currency", "single_seat_gross", "multi_seat_gross", "invoices_billed", "invoices_paid",
                          "discounts", "refunds", "net"]

    static func fields(_ row: Row) -> [String] {
        [row.courseID, row.currency] + [row.singleSeatGross, row.multiSeatGross, row.invoicesBilled, row.invoicesPaid, row.discounts,
                                        row.refunds, row.net].map(Money.format)
    }

    public var json: JSONValue {
        .array(rows.map { row in
            .object(Dictionary(uniqueKeysWithValues: zip(Self.columns, Self.fields(row).map(JSONValue.string))))
        })
    }

    public var csv: String {
        var writer = CSVWriter(header: Self.columns)
        for row in rows { writer.add(Self.fields(row)) }
        return writer.text
    }

    public var table: [[String]] { [Self.columns] + rows.map(Self.fields) }
}
