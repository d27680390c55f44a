import Foundation

/// CyberSource's Payment Batch Detail Report, read for reconciliation: the title record, the column names,
/// then one row per transaction sent to the processor. Every row is checked before any is used; the first
/// problem is refused with its line and column.
public struct PaymentBatchReport: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A capture or sale.
        case payment = "ics_bill"
        /// A refund (its amount negative in the report).
        case refund = "ics_credit"
    }

    public struct Row: Sendable, Equatable {
        public var line: Int
        public var batchID: String
        public var batchDate: String
        /// The callback's `transaction_id`.
        public var requestID: String
        /// Registrar's order reference.
        public var merchantReference: String
        public var currency: String
        /// As the report writes it: negative for a refund.
        public var amount: Decimal
        public var kind: Kind
    }

    /// `<from> to <to>` from the title record.
    public var period: String
    public var rows: [Row]

    public static let columns = ["batch_id", "merchant_id", "batch_date", "request_id", "merchant_ref_number", "trans_ref_no",
                                 "payment_method", "currency", "amount", "transaction_type"]

    public static func parse(_ text: String) -> Result<PaymentBatchReport, CSVReader.Problem> {
        let records: [CSVReader.Record]
        switch CSVReader.read(text) {
        case .failure(let problem): return .failure(problem)
        case .success(let found): records = found
        }
        guard let title = records.first, title.fields.first == "Payment Batch Detail Report" else {
            return .failure(.init(line: 1, column: 1, message: "not a Payment Batch Detail Report: the first record must begin \"Payment Batch Detail Report\""))
        }
        guard records.count >= 2 else { return .failure(.init(line: 2, column: 1, message: "the column names are missing")) }
        let header = records[1]
        var index: [String: Int] = [:]
        for (position, name) in header.fields.enumerated() { index[name] = position }
        for name in ["batch_id", "batch_date", "request_id", "merchant_ref_number", "currency", "amount", "transaction_type"] where index[name] == nil {
            return .failure(.init(line: header.line, column: 1, message: "no \(name) column"))
        }
        func column(of name: String) -> Int { (index[name] ?? 0) + 1 }
        var rows: [Row] = []
        for record in records.dropFirst(2) {
            if record.fields == [""] { continue }
            guard record.fields.count == header.fields.count else {
                return .failure(.init(line: record.line, column: 1,
                                      message: "\(record.fields.count) fields where the column names give \(header.fields.count)"))
            }
            func value(_ name: String) -> String { record.fields[index[name]!] }
            guard let amount = Money.parse(value("amount")) else {
                return .failure(.init(line: record.line, column: column(of: "amount"), message: "amount \"\(value("amount"))\" is not a decimal amount"))
            }
            guard let kind = Kind(rawValue: value("transaction_type")) else {
                return .failure(.init(line: record.line, column: column(of: "transaction_type"),
                                      message: "transaction_type \"\(value("transaction_type"))\" is neither ics_bill nor ics_credit"))
            }
            // A payment is money in, a refund money out: the other sign is a file edited by hand or misread.
            if (kind == .payment && amount < 0) || (kind == .refund && amount > 0) {
                return .failure(.init(line: record.line, column: column(of: "amount"),
                                      message: "amount \"\(value("amount"))\" of an \(kind.rawValue) must be \(kind == .payment ? "positive" : "negative")"))
            }
            let currency = value("currency")
            guard Money.isCurrencyCode(currency) else {
                return .failure(.init(line: record.line, column: column(of: "currency"), message: "currency \"\(currency)\" is not a three-letter code"))
            }
            for name in ["request_id", "merchant_ref_number"] where value(name).isEmpty {
                return .failure(.init(line: record.line, column: column(of: name), message: "\(name) is empty"))
            }
            rows.append(Row(line: record.line, batchID: value("batch_id"), batchDate: value("batch_date"), requestID: value("request_id"),
                            merchantReference: value("merchant_ref_number"), currency: currency.uppercased(), amount: amount, kind: kind))
        }
        let period = title.fields.count > 2 ? title.fields[2] : ""
        return .success(PaymentBatchReport(period: period, rows: rows))
    }
}
