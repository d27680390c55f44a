import Foundation
import RegistrarCore
import RegistrarStore

/// The LMS's enrollments of a course, with learners' emails where they can be found: what the audit reads.
public protocol EnrollmentRoster: Sendable {
    /// Every row of the course's enrollment list, every page. Throws `ReportError.lms` when the LMS cannot be read.
    func enrollments(courseID: String) async throws -> [EnrollmentAudit.Enrollment]
}

public enum ReportError: Error, Sendable, CustomStringConvertible {
    /// The LMS could not be read: the audit is not made from part of a list.
    case lms(String)
    /// No LMS is configured for the audit.
    case noRoster
    /// The gateway's report cannot be read: the line and column of the first problem.
    case unreadable(CSVReader.Problem)

    public var description: String {
        switch self {
        case .lms(let message): "the LMS's enrollment list could not be read: \(message)"
        case .noRoster: "the audit needs the LMS (openedx.lms_url and credentials)"
        case .unreadable(let problem): "the report cannot be read: \(problem)"
        }
    }
}

/// The finance reports, for the CLI and the API alike: the store and the LMS gather, the core computes.
public struct ReportDesk: Sendable {
    let store: any ReportSource & RefundBook
    let roster: (any EnrollmentRoster)?
    let staff: Set<String>

    public init(store: any ReportSource & RefundBook, roster: (any EnrollmentRoster)?, staff: [String]) {
        self.store = store
        self.roster = roster
        self.staff = Set(staff.map { $0.lowercased() })
    }

    public func seats(courseID: String, extraStaff: [String] = []) async throws -> SeatsReport {
        SeatsReport.compute(courseID: courseID, lines: try await store.saleLines(courseID: courseID),
                            refunds: try await store.refunds(courseID: courseID), codes: try await store.codeFacts(courseID: courseID),
                            staff: staff.union(extraStaff.map { $0.lowercased() }))
    }

    public func audit(courseID: String, extraStaff: [String] = []) async throws -> EnrollmentAudit {
        guard let roster else { throw ReportError.noRoster }
        let enrollments = try await roster.enrollments(courseID: courseID)
        let facts = try await store.auditFacts(courseID: courseID)
        return EnrollmentAudit.compute(courseID: courseID, enrollments: enrollments,
                                       grants: EnrollmentAudit.grants(courseID: courseID, facts: facts),
                                       staff: staff.union(extraStaff.map { $0.lowercased() }))
    }

    public func revenue(courseID: String?, period: RevenueReport.Period) async throws -> RevenueReport {
        RevenueReport.compute(lines: try await store.saleLines(courseID: courseID), refunds: try await store.refunds(courseID: courseID),
                              invoices: try await store.invoiceFacts(courseID: courseID), courseID: courseID, period: period)
    }

    /// Reconciles the gateway's report; with `apply`, records its unrecorded refunds of known orders in one commit.
    /// A refund that cannot be applied (an unknown order, another currency, more than is left to refund) stays in
    /// `refund_not_recorded` with its reason and keeps none of the others from being applied. Returns the
    /// reconciliation, each unrecorded refund's note saying what became of it, and how many were recorded now.
    public func reconcile(csv: String, apply: Bool, actor: String) async throws -> (Reconciliation, applied: Int) {
        let report: PaymentBatchReport
        switch PaymentBatchReport.parse(csv) {
        case .failure(let problem): throw ReportError.unreadable(problem)
        case .success(let parsed): report = parsed
        }
        let (payments, currencies) = try await store.gatewayPayments()
        let refunds = try await store.refunds(courseID: nil)
        var reconciliation = Reconciliation.compute(report, payments: payments, refunds: refunds, orderCurrencies: currencies)
        guard apply, !reconciliation.refundsToApply.isEmpty else { return (reconciliation, 0) }
        let outcomes = try await store.recordRefunds(reconciliation.refundsToApply, actor: actor)
        var applied = 0
        for (refund, outcome) in zip(reconciliation.refundsToApply, outcomes) {
            guard let index = reconciliation.refundNotRecorded.firstIndex(where: {
                $0.orderRef == refund.orderRef && $0.requestID == refund.reference && $0.note == nil
            }) else { continue }
            if let reason = outcome.refused {
                reconciliation.refundNotRecorded[index].note = "not applied: \(reason)"
            } else {
                if !outcome.alreadyRecorded { applied += 1 }
                reconciliation.refundNotRecorded[index].note = "applied" + (outcome.notes.isEmpty ? "" : ": " + outcome.notes.joined(separator: "; "))
            }
        }
        return (reconciliation, applied)
    }
}
