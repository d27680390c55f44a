import Foundation
import RegistrarCore

/// An invoice as the store keeps it, with its money, history and status.
public struct Invoice: Sendable, Equatable {
    public struct Transaction: Sendable, Equatable {
        /// Positive: a payment; negative: a refund.
        public var amount: Decimal
        public var reference: String?
        public var recordedBy: String
        public var at: Date

        public init(amount: Decimal, reference: String?, recordedBy: String, at: Date) {
            self.amount = amount
            self.reference = reference
            self.recordedBy = recordedBy
            self.at = at
        }
    }

    public struct Event: Sendable, Equatable {
        public var at: Date
        public var actor: String
        public var action: String
        public var detail: String

        public init(at: Date, actor: String, action: String, detail: String) {
            self.at = at
            self.actor = actor
            self.action = action
            self.detail = detail
        }
    }

    public var id: Int64
    public var request: InvoiceRequest
    public var unitPrice: Decimal
    public var total: Decimal
    public var createdBy: String
    public var createdAt: Date
    public var voidedAt: Date?
    public var transactions: [Transaction]
    /// Append-only: creation, every payment and refund, the void.
    public var history: [Event]

    public var status: InvoiceStatus {
        InvoiceRules.status(total: total, transactions: transactions.map(\.amount), voided: voidedAt != nil)
    }

    public init(id: Int64, request: InvoiceRequest, unitPrice: Decimal, total: Decimal, createdBy: String, createdAt: Date,
                voidedAt: Date?, transactions: [Transaction], history: [Event]) {
        self.id = id
        self.request = request
        self.unitPrice = unitPrice
        self.total = total
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.voidedAt = voidedAt
        self.transactions = transactions
        self.history = history
    }
}

public enum InvoiceError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(Int64)
    case void(Int64)

    public var description: String {
        switch self {
        case .notFound(let id): "no invoice \(id)"
        case .void(let id): "invoice \(id) is void: nothing more can be recorded on it"
        }
    }
}

extension Invoice {
    /// The codes CSV rows of this invoice's codes (the design's columns, company and references filled in): what
    /// its mail attaches, `invoices codes` prints and `GET /api/v1/invoices/{id}/codes.csv` serves.
    public func csvRows(_ codes: [CodeRecord]) -> [CodeCSV.Row] {
        codes.map { code in
            CodeCSV.Row(code: code.code, courseID: code.courseID, mode: code.mode, source: "invoice", invoiceID: String(id),
                        companyName: request.companyName, customerReference: request.customerReference,
                        internalReference: request.internalReference, state: code.state,
                        redemptions: code.redemptions.map { ($0.email, Timestamp.format($0.at)) })
        }
    }
}
