import Foundation
import RegistrarCore

/// What the reports read: the store gathers the facts, the core's report types do the arithmetic.
public protocol ReportSource: Sendable {
    /// Recorded order lines: every line of every order that has a line of `courseID` (nil: every line), so that
    /// a refund of an order can be spread over all its lines.
    func saleLines(courseID: String?) async throws -> [SaleLine]
    /// Refunds of those orders.
    func refunds(courseID: String?) async throws -> [RefundRecord]
    /// One order's refunds, oldest first.
    func refunds(ofOrder orderRef: String, source: SaleLine.Source) async throws -> [RefundRecord]
    /// The course's codes with their origin, state and redeemers.
    func codeFacts(courseID: String) async throws -> [SeatsReport.CodeFact]
    /// What Registrar did that should leave learners of the course enrolled.
    func auditFacts(courseID: String) async throws -> EnrollmentAudit.Facts
    /// Invoices of the course (nil: every course) with their transactions.
    func invoiceFacts(courseID: String?) async throws -> [RevenueReport.InvoiceFact]
    /// Every payment the gateway accepted for an order, and the currency of every order, for reconciliation.
    func gatewayPayments() async throws -> (payments: [Reconciliation.RecordedPayment], orderCurrencies: [String: String])
    /// Learners' emails by LMS username, as enroll jobs looked them up (the audit's LMS list names usernames).
    func emails(forUsernames usernames: [String]) async throws -> [String: String]
}

/// Refunds made at the gateway (CyberSource sends Registrar no refund callback), recorded by an operator or from
/// the gateway's report.
public protocol RefundBook: Sendable {
    /// Records one refund and applies it in the same commit: a line given back whole unenrolls its single seat or
    /// voids its unredeemed codes. The same reference recorded again changes nothing. Throws
    /// `RefundError.refused` (nothing recorded) or `OrderError.notFound`.
    func recordRefund(_ refund: GatewayRefund, actor: String) async throws -> RefundOutcome

    /// Records several refunds in one commit: each is decided after the ones before it, and one refused (its
    /// reason in its outcome) keeps none of the others from being recorded.
    func recordRefunds(_ refunds: [GatewayRefund], actor: String) async throws -> [RefundOutcome]

    /// Says which lines a WooCommerce refund (recorded from the order's `refunds[]`, for the order as a whole)
    /// gave money back for, as the store's REST API tells: those parts become the lines', the rest stays the
    /// order's. Done once per refund; later calls change nothing.
    func attributeStoreRefund(store: String, orderID: Int, refundID: Int, amounts: [Int: Decimal]) async throws
}

public struct RefundOutcome: Sendable {
    public var refund: RefundRecord
    /// True when the same refund was recorded before: nothing changed.
    public var alreadyRecorded: Bool
    /// Unenroll jobs of the single seats given back (created, or found by their key).
    public var jobs: [EnqueuedJob]
    /// What happened to the lines given back: codes voided, seats an operator must see to.
    public var notes: [String]
    /// Why the refund was not recorded (`recordRefunds` only); nil when it was, now or before.
    public var refused: String?

    public init(refund: RefundRecord, alreadyRecorded: Bool, jobs: [EnqueuedJob] = [], notes: [String] = [], refused: String? = nil) {
        self.refused = refused
        self.refund = refund
        self.alreadyRecorded = alreadyRecorded
        self.jobs = jobs
        self.notes = notes
    }
}

public enum RefundError: Error, Sendable, Equatable, CustomStringConvertible {
    case refused(String)

    public var description: String {
        switch self {
        case .refused(let reason): reason
        }
    }
}
