import Foundation

/// One paid order line as the reports count it: what was sold, to whom, for how much. Recorded when the order
/// is paid (WooCommerce intake, the CyberSource callback) and never changed: refunds are kept beside it.
public struct SaleLine: Sendable, Equatable {
    public enum Source: String, Sendable, Equatable, CaseIterable {
        case woocommerce
        case cybersource
    }

    public enum Fulfilment: String, Sendable, Equatable, CaseIterable {
        /// One seat enrolling the buyer.
        case single
        /// Several seats enrolling the buyer once (a store's `seats: buyer`).
        case buyer
        /// Several seats sold as registration codes.
        case codes
        /// The payment for a priced code's seat: the code explains the enrollment, the money is a single seat's.
        case codePayment = "code_payment"
        /// What a store order took beyond its course lines (other items, tax, shipping): no course's money, kept
        /// so that a refund of the order by amount is not all put on its course lines.
        case other
    }

    public var source: Source
    /// `<store>:<order id>` for WooCommerce, the order reference for CyberSource.
    public var orderRef: String
    /// The WooCommerce line id, or the CyberSource item's index.
    public var line: Int
    public var courseID: String
    public var mode: String?
    public var email: String
    public var quantity: Int
    public var fulfilment: Fulfilment
    /// At list price, before discounts.
    public var gross: Decimal { didSet { grossText = Money.format(gross) } }
    public var discount: Decimal { didSet { discountText = Money.format(discount) } }
    /// The amounts as the store keeps them ("49.00"), made with the line: intake makes its lines before its one
    /// writer takes the delivery, which then spends nothing on formatting decimals (5 µs each, measured).
    public private(set) var grossText: String
    public private(set) var discountText: String
    public var currency: String
    public var paidAt: Date
    /// The dedupe key of the job that enrolls the buyer, when one does.
    public var enrollKey: String?

    public init(source: Source, orderRef: String, line: Int, courseID: String, mode: String? = nil, email: String,
                quantity: Int, fulfilment: Fulfilment, gross: Decimal, discount: Decimal = 0, currency: String,
                paidAt: Date, enrollKey: String? = nil) {
        self.source = source
        self.orderRef = orderRef
        self.line = line
        self.courseID = courseID
        self.mode = mode
        self.email = email
        self.quantity = quantity
        self.fulfilment = fulfilment
        self.gross = gross
        self.discount = discount
        self.grossText = Money.format(gross)
        self.discountText = Money.format(discount)
        self.currency = currency
        self.paidAt = paidAt
        self.enrollKey = enrollKey
    }

    /// The money received for the line.
    public var net: Decimal { gross - discount }

    /// Explains one enrollment of its buyer by itself (not through a code).
    public var enrollsBuyer: Bool { fulfilment == .single || fulfilment == .buyer }

    /// A paid single seat as the seat count has it: one seat enrolling its buyer.
    public var isSingleSeat: Bool { enrollsBuyer && quantity == 1 }

    /// Counted in the single-seat gross (one seat); the rest of a course's money is multi-seat.
    public var isSingleSeatMoney: Bool { fulfilment == .codePayment || isSingleSeat }

    public var isCourse: Bool { fulfilment != .other }

    public var key: LineKey { LineKey(source: source, orderRef: orderRef, line: line) }

    public struct LineKey: Hashable, Sendable {
        public var source: Source
        public var orderRef: String
        public var line: Int

        public init(source: Source, orderRef: String, line: Int) {
            self.source = source
            self.orderRef = orderRef
            self.line = line
        }
    }
}

/// Money given back for an order, or one line of it. Kept once per reference: a refund seen again (the same
/// WooCommerce refund id, the same gateway request id) is the same refund.
public struct RefundRecord: Sendable, Equatable {
    public enum Origin: String, Sendable, Equatable, CaseIterable {
        /// A WooCommerce refund, read from the order's `refunds[]`.
        case woocommerce
        /// Recorded by an operator (`orders refund`).
        case gateway
        /// Recorded from the gateway's report (`reports reconcile --apply-refunds`).
        case reconciliation
    }

    public var origin: Origin
    public var orderSource: SaleLine.Source
    public var orderRef: String
    /// nil: the order as a whole, spread over its lines by their amounts.
    public var line: Int?
    /// Positive.
    public var amount: Decimal
    public var currency: String
    /// The WooCommerce refund id, the gateway's request id, or the operator's; nil when none was given.
    public var reference: String?
    public var at: Date
    /// Gives back a payment taken beyond the order's amount (a duplicate payment): no line's money.
    public var surplus: Bool

    public init(origin: Origin, orderSource: SaleLine.Source, orderRef: String, line: Int? = nil, amount: Decimal,
                currency: String, reference: String? = nil, at: Date, surplus: Bool = false) {
        self.surplus = surplus
        self.origin = origin
        self.orderSource = orderSource
        self.orderRef = orderRef
        self.line = line
        self.amount = amount
        self.currency = currency
        self.reference = reference
        self.at = at
    }
}

extension SaleLine {
    /// A paid hosted-checkout order's lines, one per item, by index.
    public static func lines(of order: OrderSnapshot, paidAt: Date) -> [SaleLine] {
        order.items.enumerated().map { index, item in
            let fulfilment: Fulfilment = item.fulfilment == OrderFulfilment.codeFulfilment ? .codePayment : item.quantity > 1 ? .codes : .single
            return SaleLine(source: .cybersource, orderRef: order.reference, line: index, courseID: item.courseID, mode: item.mode,
                            email: order.email, quantity: item.quantity, fulfilment: fulfilment,
                            gross: item.gross, discount: item.discountAmount, currency: order.currency.uppercased(),
                            paidAt: paidAt,
                            enrollKey: fulfilment == .single ? OrderFulfilment.keyPrefix(reference: order.reference) + "\(index):enroll" : nil)
        }
    }

    /// The job that unenrolls a single seat's buyer once the seat is refunded whole.
    public func unenrollJob(source: String) throws -> NewJob? {
        guard fulfilment == .single || fulfilment == .buyer, self.source == .cybersource else { return nil }
        return try NewJob(kind: .unenroll, dedupeKey: OrderFulfilment.keyPrefix(reference: orderRef) + "\(line):unenroll",
                          serialKey: SerialKey.enrollment(email: email, courseID: courseID),
                          payload: UnenrollPayload(email: email, courseID: courseID, orderReference: orderRef), source: source)
    }
}

extension SaleLine {
    /// The lines of one order as the store keeps them: what differs from line to line, as a JSON array.
    /// The lines grouped by the order they belong to (source and reference), orders and lines in the order given:
    /// a store keeps one row per order.
    public static func byOrder(_ lines: [SaleLine]) -> [[SaleLine]] {
        var groups: [[SaleLine]] = []
        for line in lines {
            if let index = groups.firstIndex(where: { $0[0].source == line.source && $0[0].orderRef == line.orderRef }) {
                groups[index].append(line)
            } else {
                groups.append([line])
            }
        }
        return groups
    }

    public static func linesJSON(_ lines: [SaleLine]) -> String {
        JSONValue.array(lines.map { line in
            var fields: [String: JSONValue] = [
                "line": .number(Double(line.line)), "course_id": .string(line.courseID), "quantity": .number(Double(line.quantity)),
                "fulfilment": .string(line.fulfilment.rawValue), "gross": .string(line.grossText), "discount": .string(line.discountText),
            ]
            if let mode = line.mode { fields["mode"] = .string(mode) }
            if let key = line.enrollKey { fields["enroll_key"] = .string(key) }
            return .object(fields)
        }).jsonText
    }

    /// Reads back what `linesJSON` wrote; nil when it is not that.
    public static func lines(json: String, source: Source, orderRef: String, email: String, currency: String, paidAt: Date) -> [SaleLine]? {
        guard let items = JSONValue.parse(json)?.arrayValue else { return nil }
        var lines: [SaleLine] = []
        for item in items {
            guard case .number(let number)? = item["line"], let course = item["course_id"]?.stringValue,
                  case .number(let quantity)? = item["quantity"], let fulfilment = item["fulfilment"]?.stringValue.flatMap(Fulfilment.init),
                  let gross = item["gross"]?.stringValue.flatMap(Money.parse), let discount = item["discount"]?.stringValue.flatMap(Money.parse)
            else { return nil }
            lines.append(SaleLine(source: source, orderRef: orderRef, line: Int(number), courseID: course, mode: item["mode"]?.stringValue,
                                  email: email, quantity: Int(quantity), fulfilment: fulfilment, gross: gross, discount: discount,
                                  currency: currency, paidAt: paidAt, enrollKey: item["enroll_key"]?.stringValue))
        }
        return lines
    }
}
