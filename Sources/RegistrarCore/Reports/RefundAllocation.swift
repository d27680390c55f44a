import Foundation

/// Which lines a refund gave money back for. A refund naming a line is that line's. A refund of the order as a
/// whole (WooCommerce's refunds by amount, a gateway refund without `--line`) is spread over what each line has
/// not had back yet, in proportion, to the cent (whole cents by largest remainder, so no share is negative); what
/// is left beyond every line's amount (a store's tax or shipping refunded) goes to the lines by what they were
/// paid. Refunds are taken in the order given. A refund of a duplicate payment (`surplus`) belongs to no line.
/// Pure.
public enum RefundAllocation {
    /// A part of one refund, on one line.
    public struct Share: Sendable, Equatable {
        public var line: SaleLine.LineKey
        public var courseID: String
        public var currency: String
        public var amount: Decimal
        public var at: Date
        /// The line is not a course's (a store order's other items, tax and shipping).
        public var isCourse: Bool
    }

    /// Every refund's shares. A refund of an order with no recorded line is left out: nothing says which course
    /// it was for (reconciliation still lists it).
    public static func shares(lines: [SaleLine], refunds: [RefundRecord]) -> [Share] {
        var byOrder: [OrderKey: [SaleLine]] = [:]
        for line in lines { byOrder[OrderKey(source: line.source, orderRef: line.orderRef), default: []].append(line) }
        for key in byOrder.keys { byOrder[key]!.sort { $0.line < $1.line } }
        var remaining: [SaleLine.LineKey: Decimal] = [:]
        for line in lines { remaining[line.key] = max(0, line.net) }
        var shares: [Share] = []
        for refund in refunds where !refund.surplus {
            guard let orderLines = byOrder[OrderKey(source: refund.orderSource, orderRef: refund.orderRef)], !orderLines.isEmpty
            else { continue }
            func share(_ line: SaleLine, _ amount: Decimal) {
                guard amount != 0 else { return }
                remaining[line.key] = max(0, (remaining[line.key] ?? 0) - amount)
                shares.append(Share(line: line.key, courseID: line.courseID, currency: refund.currency, amount: amount, at: refund.at,
                                    isCourse: line.fulfilment != .other))
            }
            if let number = refund.line {
                if let line = orderLines.first(where: { $0.line == number }) { share(line, refund.amount) }
                continue
            }
            let open = orderLines.map { remaining[$0.key] ?? 0 }
            let openTotal = open.reduce(0, +)
            let covered = min(refund.amount, openTotal)
            let parts = split(covered, by: open)
            let beyond = split(refund.amount - covered, by: orderLines.map { max(0, $0.net) })
            for (index, line) in orderLines.enumerated() { share(line, parts[index] + beyond[index]) }
        }
        return shares
    }

    /// `amount` in whole cents over `weights` in proportion: each part rounded down, the cents left over going to
    /// the largest remainders (the first line on a tie). All to the first when every weight is 0.
    static func split(_ amount: Decimal, by weights: [Decimal]) -> [Decimal] {
        guard !weights.isEmpty else { return [] }
        var parts = [Decimal](repeating: 0, count: weights.count)
        guard amount > 0 else { return parts }
        let total = weights.reduce(0, +)
        guard total > 0 else {
            parts[0] = amount
            return parts
        }
        var remainders: [(index: Int, rest: Decimal)] = []
        for (index, weight) in weights.enumerated() {
            let exact = amount * weight / total
            let floor = rounded(exact, .down)
            parts[index] = floor
            remainders.append((index, exact - floor))
        }
        var left = amount - parts.reduce(0, +)
        for entry in remainders.sorted(by: { $0.rest != $1.rest ? $0.rest > $1.rest : $0.index < $1.index }) where left > 0 {
            let cent = min(Decimal(string: "0.01")!, left)
            parts[entry.index] += cent
            left -= cent
        }
        if left > 0 { parts[0] += left }
        return parts
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

    static func rounded(_ value: Decimal, _ mode: NSDecimalNumber.RoundingMode) -> Decimal {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, 2, mode)
        return output
    }

    struct OrderKey: Hashable {
        var source: SaleLine.Source
        var orderRef: String
    }
}
