import Foundation

/// `reports reconcile`: CyberSource's Payment Batch Detail Report against what Registrar recorded. Payments are
/// matched by `merchant_ref_number` = the order reference and `request_id` = the callback's `transaction_id`;
/// refunds (`ics_credit`) by the order and the request id recorded as the refund's reference. Pure.
public struct Reconciliation: Sendable, Equatable {
    /// A payment Registrar accepted: the transaction that paid an order.
    public struct RecordedPayment: Sendable, Equatable {
        public var orderRef: String
        public var transactionID: String
        public var amount: Decimal
        public var currency: String
        public var at: Date

        public init(orderRef: String, transactionID: String, amount: Decimal, currency: String, at: Date) {
            self.orderRef = orderRef
            self.transactionID = transactionID
            self.amount = amount
            self.currency = currency
            self.at = at
        }
    }

    public struct Entry: Sendable, Equatable {
        public var orderRef: String
        public var requestID: String
        /// The report's line, when the entry comes from it.
        public var line: Int?
        /// Positive; a refund's amount as given back.
        public var gatewayAmount: Decimal?
        public var registrarAmount: Decimal?
        public var currency: String
        public var note: String?
    }

    public var period: String
    public var matched: [Entry]
    public var amountMismatch: [Entry]
    public var inGatewayOnly: [Entry]
    public var inRegistrarOnly: [Entry]
    /// Refunds Registrar has not recorded. Those of an order Registrar knows can be applied (`refundsToApply`).
    public var refundNotRecorded: [Entry]
    /// What `--apply-refunds` records, one per unrecorded refund of a known order.
    public var refundsToApply: [GatewayRefund]

    /// - Parameters:
    ///   - payments: every payment Registrar recorded; those outside the report's period (when its title gives
    ///     one as `YYYY-MM-DD to YYYY-MM-DD`) are not expected in it.
    ///   - refunds: refunds recorded for the orders, with their references.
    ///   - orderCurrencies: the currency of every order Registrar knows, by reference.
    public static func compute(_ report: PaymentBatchReport, payments: [RecordedPayment], refunds: [RefundRecord],
                               orderCurrencies: [String: String]) -> Reconciliation {
        var result = Reconciliation(period: report.period, matched: [], amountMismatch: [], inGatewayOnly: [], inRegistrarOnly: [],
                                    refundNotRecorded: [], refundsToApply: [])
        var byTransaction: [PaymentKey: RecordedPayment] = [:]
        for payment in payments { byTransaction[PaymentKey(order: payment.orderRef, request: payment.transactionID)] = payment }
        var seen = Set<PaymentKey>()
        var recordedRefunds = Set<PaymentKey>()
        for refund in refunds { if let reference = refund.reference { recordedRefunds.insert(PaymentKey(order: refund.orderRef, request: reference)) } }
        for row in report.rows {
            let key = PaymentKey(order: row.merchantReference, request: row.requestID)
            switch row.kind {
            case .payment:
                seen.insert(key)
                var entry = Entry(orderRef: row.merchantReference, requestID: row.requestID, line: row.line, gatewayAmount: row.amount,
                                  registrarAmount: nil, currency: row.currency, note: nil)
                guard let payment = byTransaction[key] else {
                    entry.note = orderCurrencies[row.merchantReference] == nil
                        ? "no order \(row.merchantReference) in Registrar" : "order \(row.merchantReference) has no payment \(row.requestID)"
                    result.inGatewayOnly.append(entry)
                    continue
                }
                entry.registrarAmount = payment.amount
                if payment.amount == row.amount, payment.currency.uppercased() == row.currency {
                    result.matched.append(entry)
                } else {
                    entry.note = payment.currency.uppercased() == row.currency
                        ? "the gateway settled \(Money.format(row.amount)), Registrar recorded \(Money.format(payment.amount))"
                        : "the gateway settled in \(row.currency), Registrar recorded \(payment.currency)"
                    result.amountMismatch.append(entry)
                }
            case .refund:
                let amount = -row.amount
                var entry = Entry(orderRef: row.merchantReference, requestID: row.requestID, line: row.line, gatewayAmount: amount,
                                  registrarAmount: nil, currency: row.currency, note: nil)
                if recordedRefunds.contains(key), let recorded = refunds.first(where: { $0.orderRef == key.order && $0.reference == key.request }) {
                    entry.registrarAmount = recorded.amount
                    if recorded.amount == amount, recorded.currency.uppercased() == row.currency {
                        entry.note = "refund"
                        result.matched.append(entry)
                    } else {
                        entry.note = "the gateway refunded \(Money.format(amount)) \(row.currency), Registrar recorded \(Money.format(recorded.amount)) \(recorded.currency)"
                        result.amountMismatch.append(entry)
                    }
                    continue
                }
                if let currency = orderCurrencies[row.merchantReference] {
                    if currency.uppercased() != row.currency {
                        entry.note = "order \(row.merchantReference) was paid in \(currency): not applied"
                    } else if amount <= 0 {
                        entry.note = "a refund of \(Money.format(amount)) cannot be applied"
                    } else {
                        result.refundsToApply.append(GatewayRefund(orderRef: row.merchantReference, amount: amount, currency: row.currency,
                                                                   reference: row.requestID, origin: .reconciliation))
                    }
                } else {
                    entry.note = "no order \(row.merchantReference) in Registrar: not applied"
                }
                result.refundNotRecorded.append(entry)
            }
        }
        let window = Self.window(report.period)
        for payment in payments where !seen.contains(PaymentKey(order: payment.orderRef, request: payment.transactionID)) {
            if let window, !(payment.at >= window.from && payment.at < window.to) { continue }
            result.inRegistrarOnly.append(Entry(orderRef: payment.orderRef, requestID: payment.transactionID, line: nil, gatewayAmount: nil,
                                                registrarAmount: payment.amount, currency: payment.currency, note: nil))
        }
        result.inRegistrarOnly.sort { ($0.orderRef, $0.requestID) < ($1.orderRef, $1.requestID) }
        return result
    }

    /// The report's period from its title, `2026-11-01 to 2026-11-30`, as UTC days, the last one included.
    static func window(_ period: String) -> (from: Date, to: Date)? {
        let parts = period.components(separatedBy: " to ")
        guard parts.count == 2, let from = CivilCalendar.date(parts[0].trimmingSpaces), let last = CivilCalendar.date(parts[1].trimmingSpaces)
        else { return nil }
        return (from, last.addingTimeInterval(86_400))
    }

    struct PaymentKey: Hashable {
        var order: String
        var request: String
    }

    static let lists = ["matched", "amount_mismatch", "in_gateway_only", "in_registrar_only", "refund_not_recorded"]

    var listed: [(String, [Entry])] {
        zip(Self.lists, [matched, amountMismatch, inGatewayOnly, inRegistrarOnly, refundNotRecorded]).map { ($0, $1) }
    }

    public func json(applied: Int?) -> JSONValue {
        var fields: [String: JSONValue] = ["period": .string(period)]
        for (name, entries) in listed {
            fields[name] = .array(entries.map { entry in
                var item: [String: JSONValue] = ["merchant_ref_number": .string(entry.orderRef), "request_id": .string(entry.requestID),
                                                 "currency": .string(entry.currency)]
                if let line = entry.line { item["line"] = .number(Double(line)) }
                if let amount = entry.gatewayAmount { item["gateway_amount"] = .string(Money.format(amount)) }
                if let amount = entry.registrarAmount { item["registrar_amount"] = .string(Money.format(amount)) }
                if let note = entry.note { item["note"] = .string(note) }
                return .object(item)
            })
        }
        if let applied { fields["refunds_applied"] = .number(Double(applied)) }
        return .object(fields)
    }

    public var csv: String {
        var writer = CSVWriter(header: ["list", "merchant_ref_number", "request_id", "currency", "gateway_amount", "registrar_amount", "line", "note"])
        for (name, entries) in listed {
            for entry in entries {
                writer.add([name, entry.orderRef, entry.requestID, entry.currency, entry.gatewayAmount.map(Money.format) ?? "",
                            entry.registrarAmount.map(Money.format) ?? "", entry.line.map(String.init) ?? "", entry.note ?? ""])
            }
        }
        return writer.text
    }
}
