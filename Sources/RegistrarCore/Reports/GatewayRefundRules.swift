import Foundation

/// A refund made at the gateway, to be recorded against a paid order: by an operator (`orders refund`) or from
/// the gateway's report (reconciliation).
public struct GatewayRefund: Sendable, Equatable {
    public var orderRef: String
    public var amount: Decimal
    /// nil: the order's currency.
    public var currency: String?
    /// The item's index; nil for the order as a whole.
    public var line: Int?
    /// The gateway's request id of the refund, or the operator's own; the same reference is the same refund.
    public var reference: String?
    public var origin: RefundRecord.Origin

    public init(orderRef: String, amount: Decimal, currency: String? = nil, line: Int? = nil, reference: String? = nil,
                origin: RefundRecord.Origin = .gateway) {
        self.orderRef = orderRef
        self.amount = amount
        self.currency = currency
        self.line = line
        self.reference = reference
        self.origin = origin
    }
}

/// What recording a gateway refund does. Pure: the store gathers the order's lines and refunds, and applies the
/// verdict in the same commit.
public enum GatewayRefundRules {
    public enum Verdict: Sendable, Equatable {
        /// Record it; the lines it gives back whole now (and not before) lose their seats: a single seat's learner
        /// is unenrolled, a line's codes are voided.
        case record(RefundRecord, givesBack: [SaleLine])
        /// The same reference, amount and line were recorded before: nothing changes.
        case alreadyRecorded(RefundRecord)
        case refused(String)
    }

    /// - Parameters:
    ///   - lines: the order's recorded lines (empty: the order was never paid).
    ///   - refunds: the order's refunds recorded so far.
    ///   - taken: the money the gateway took for the order (a duplicate payment counts): a refund within what was
    ///     taken beyond the lines gives that back first, and gives back no line.
    public static func decide(_ refund: GatewayRefund, orderCurrency: String, orderStatus: String, lines: [SaleLine],
                              refunds: [RefundRecord], taken: Decimal, at: Date) -> Verdict {
        let label = "order \(refund.orderRef)"
        let currency = (refund.currency ?? orderCurrency).uppercased()
        if let reference = refund.reference, let earlier = refunds.first(where: { $0.reference == reference }) {
            if earlier.amount == refund.amount, earlier.line == refund.line, earlier.currency == currency {
                return .alreadyRecorded(earlier)
            }
            return .refused("refund \(reference) of \(label) is already recorded as \(Money.format(earlier.amount)) \(earlier.currency)"
                + (earlier.line.map { " on line \($0)" } ?? "") + ": a different refund needs a different reference")
        }
        guard refund.amount > 0 else { return .refused("the amount must be more than 0, not \(Money.format(refund.amount))") }
        guard currency == orderCurrency.uppercased() else {
            return .refused("\(label) was paid in \(orderCurrency), not \(currency)")
        }
        guard !lines.isEmpty, orderStatus == "paid" else {
            return .refused("\(label) is \(orderStatus): only a paid order can be refunded")
        }
        let source = lines[0].source
        func record(surplus: Bool) -> RefundRecord {
            RefundRecord(origin: refund.origin, orderSource: source, orderRef: refund.orderRef, line: refund.line, amount: refund.amount,
                         currency: currency, reference: refund.reference, at: at, surplus: surplus)
        }
        let linesNet = lines.reduce(Decimal(0)) { $0 + max(0, $1.net) }
        let surplusLeft = max(0, taken - linesNet) - refunds.filter(\.surplus).reduce(Decimal(0)) { $0 + $1.amount }
        if refund.line == nil, surplusLeft > 0 {
            guard refund.amount <= surplusLeft else {
                return .refused("\(label) was paid \(Money.format(surplusLeft)) \(currency) more than its amount (a duplicate payment): "
                    + "record that refund first (--amount \(Money.format(surplusLeft))), or name the --line refunded")
            }
            return .record(record(surplus: true), givesBack: [])
        }
        let lineRefunds = refunds.filter { !$0.surplus }
        let orderLeft = linesNet - lineRefunds.reduce(Decimal(0)) { $0 + $1.amount }
        let refunded = RefundAllocation.refunded(lines: lines, refunds: lineRefunds)
        var available = orderLeft
        if let number = refund.line {
            guard let line = lines.first(where: { $0.line == number }) else {
                return .refused("\(label) has no line \(number) (its lines: \(lines.map { String($0.line) }.sorted().joined(separator: ", ")))")
            }
            available = min(orderLeft, line.net - (refunded[line.key] ?? 0))
        }
        guard refund.amount <= available else {
            return .refused("\(Money.format(refund.amount)) \(currency) is more than the \(Money.format(max(0, available))) \(currency) "
                + (refund.line.map { "of line \($0) " } ?? "") + "of \(label) not yet refunded")
        }
        let made = record(surplus: false)
        let before = RefundAllocation.whollyRefunded(lines: lines, refunds: lineRefunds)
        let after = RefundAllocation.whollyRefunded(lines: lines, refunds: lineRefunds + [made])
        let givesBack = lines.filter { after.contains($0.key) && !before.contains($0.key) }.sorted { $0.line < $1.line }
        return .record(made, givesBack: givesBack)
    }
}
