import Foundation

/// Which lines a refund gave money back for. A refund naming a line is that line's; a refund of the order as a
/// whole (WooCommerce's refunds by amount, a gateway refund without `--line`) is spread over the order's lines
/// in proportion to what each was paid, to the cent, the last line taking what rounding leaves. Pure.
public enum RefundAllocation {
    /// A part of one refund, on one line.
    public struct Share: Sendable, Equatable {
        public var line: SaleLine.LineKey
        public var courseID: String
        public var currency: String
        public var amount: Decimal
        public var at: Date
    }

    /// Every refund's shares. A refund of an order with no recorded line is left out: nothing says which course
    /// it was for (it is still listed by reconciliation).
    public static func shares(lines: [SaleLine], refunds: [RefundRecord]) -> [Share] {
        var byOrder: [OrderKey: [SaleLine]] = [:]
        for line in lines { byOrder[OrderKey(source: line.source, orderRef: line.orderRef), default: []].append(line) }
        var shares: [Share] = []
        for refund in refunds {
            guard var orderLines = byOrder[OrderKey(source: refund.orderSource, orderRef: refund.orderRef)], !orderLines.isEmpty
            else { continue }
            orderLines.sort { $0.line < $1.line }
            if let number = refund.line {
                guard let line = orderLines.first(where: { $0.line == number }) else { continue }
                shares.append(Share(line: line.key, courseID: line.courseID, currency: refund.currency, amount: refund.amount, at: refund.at))
                continue
            }
            let total = orderLines.reduce(Decimal(0)) { $0 + max(0, $1.net) }
            var left = refund.amount
            for (index, line) in orderLines.enumerated() {
                let part: Decimal
                if index == orderLines.count - 1 {
                    part = left
                } else if total == 0 {
                    part = 0
                } else {
                    part = cents(refund.amount * max(0, line.net) / total)
                }
                left -= part
                if part != 0 {
                    shares.append(Share(line: line.key, courseID: line.courseID, currency: refund.currency, amount: part, at: refund.at))
                }
            }
        }
        return shares
    }

    /// Money refunded per line.
    public static func refunded(lines: [SaleLine], refunds: [RefundRecord]) -> [SaleLine.LineKey: Decimal] {
        var sums: [SaleLine.LineKey: Decimal] = [:]
        for share in shares(lines: lines, refunds: refunds) { sums[share.line, default: 0] += share.amount }
        return sums
    }

    /// Lines given back whole: refunded at least what was paid for them. A line paid nothing (a free seat) is
    /// given back only with the rest of its order, once every line is.
    public static func whollyRefunded(lines: [SaleLine], refunds: [RefundRecord]) -> Set<SaleLine.LineKey> {
        let sums = refunded(lines: lines, refunds: refunds)
        var result = Set<SaleLine.LineKey>()
        var byOrder: [OrderKey: [SaleLine]] = [:]
        for line in lines { byOrder[OrderKey(source: line.source, orderRef: line.orderRef), default: []].append(line) }
        for (_, orderLines) in byOrder {
            let paid = orderLines.filter { $0.net > 0 }
            let covered = paid.filter { (sums[$0.key] ?? 0) >= $0.net }
            for line in covered { result.insert(line.key) }
            let anyRefund = orderLines.contains { (sums[$0.key] ?? 0) > 0 }
            if anyRefund, covered.count == paid.count {
                for line in orderLines where line.net <= 0 { result.insert(line.key) }
            }
        }
        return result
    }

    /// Half up to the cent.
    static func cents(_ value: Decimal) -> Decimal {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, 2, .plain)
        return output
    }

    struct OrderKey: Hashable {
        var source: SaleLine.Source
        var orderRef: String
    }
}
