import Crypto
import Foundation

/// A value as one backend holds it, on its way to another (`registrar store copy`).
public enum CopiedValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case date(Date)
}

/// What a column holds, whatever each backend calls it: how a value is converted and compared.
public enum CopiedKind: Sendable, Equatable {
    case integer, boolean, timestamp, json, integerArray, bytes, text
}

/// One table of the copy: its name and the columns that order its rows (its primary key).
public struct CopiedTable: Sendable {
    public var name: String
    public var key: [String]

    /// Every table Registrar keeps, parents before the rows that refer to them. The heartbeat row is not copied.
    public static let all: [CopiedTable] = [
        .init("deliveries", key: ["id"]), .init("jobs", key: ["id"]), .init("job_attempts", key: ["id"]),
        .init("pruned_jobs", key: ["dedupe_key"]), .init("operator_actions", key: ["id"]),
        .init("learner_accounts", key: ["email"]), .init("woo_orders", key: ["store", "order_id"]),
        .init("orders", key: ["reference"]), .init("payments", key: ["id"]), .init("api_tokens", key: ["name"]),
        .init("woo_catch_up", key: ["store"]), .init("codes", key: ["id"]), .init("code_redemptions", key: ["code", "email"]),
        .init("invoices", key: ["id"]), .init("invoice_transactions", key: ["id"]), .init("invoice_history", key: ["id"]),
        .init("woo_seat_refunds", key: ["store", "order_id", "line_id"]), .init("code_holds", key: ["order_ref"]),
        .init("organizations", key: ["id"]), .init("contracts", key: ["id"]), .init("contract_runs", key: ["course_id"]),
        .init("contract_learners", key: ["contract_id", "email"]), .init("sales", key: ["id"]), .init("refunds", key: ["id"]),
        .init("prices", key: ["course_id", "mode", "currency"]), .init("coupons", key: ["code"]),
        .init("coupon_uses", key: ["order_ref"]), .init("console_sessions", key: ["id_hash"]),
    ]

    public init(_ name: String, key: [String]) {
        self.name = name
        self.key = key
    }
}

/// Rows of one table in key order, as read from a backend.
public struct CopiedRows: Sendable {
    public var columns: [String]
    public var rows: [[CopiedValue]]

    public init(columns: [String], rows: [[CopiedValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// A table's row count and a SHA-256 over its rows in key order, each value in one form whichever backend it was
/// read from (an instant to the millisecond, JSON with its keys sorted, a flag as 0 or 1): equal on both sides
/// when the copy is whole and unchanged.
public struct TableChecksum: Equatable, CustomStringConvertible {
    public private(set) var rows = 0
    private var hash = SHA256()

    public init() {}

    public mutating func add(_ row: [CopiedValue], kinds: [CopiedKind]) {
        rows += 1
        for (value, kind) in zip(row, kinds) {
            hash.update(data: Array(Self.canonical(value, kind).utf8))
            hash.update(data: [0x1F])
        }
        hash.update(data: [0x1E])
    }

    public var digest: String { hash.finalize().map { String(format: "%02x", $0) }.joined() }

    public var description: String { "\(rows) rows, sha256 \(digest.prefix(16))…" }

    public static func == (lhs: TableChecksum, rhs: TableChecksum) -> Bool {
        lhs.rows == rhs.rows && lhs.digest == rhs.digest
    }

    static func canonical(_ value: CopiedValue, _ kind: CopiedKind) -> String {
        switch (value, kind) {
        case (.null, _): return "\u{2205}"
        case (.integer(let number), .boolean): return number == 0 ? "0" : "1"
        case (.integer(let number), _): return String(number)
        case (.real(let number), _): return String(number)
        case (.date(let date), _): return String(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        case (.blob(let bytes), _): return bytes.map { String(format: "%02x", $0) }.joined()
        case (.text(let text), .json):
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
                  let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
            else { return text }
            return String(decoding: data, as: UTF8.self)
        case (.text(let text), .integerArray):
            guard let ids = try? JSONDecoder().decode([Int64].self, from: Data(text.utf8)) else { return text }
            return ids.map(String.init).joined(separator: ",")
        case (.text(let text), _): return text
        }
    }
}
