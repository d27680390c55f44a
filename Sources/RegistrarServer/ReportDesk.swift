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
    /// Refunds the report lists that cannot be applied; nothing was.
    case notApplied(String)

    public var description: String {
        switch self {
        case .lms(let message): "the LMS's enrollment list could not be read: \(message)"
        case .noRoster: "the audit needs the LMS (openedx.lms_url and credentials)"
        case .unreadable(let problem): "the report cannot be read: \(problem)"
        case .notApplied(let reasons): "no refund was applied: \(reasons)"
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

    /// Reconciles the gateway's report; with `apply`, records its unrecorded refunds of known orders in one commit
    /// (every one checked first: one that cannot be applied applies none). Returns the reconciliation as it
    /// stood before applying, and how many refunds were recorded now.
    public func reconcile(csv: String, apply: Bool, actor: String) async throws -> (Reconciliation, applied: Int) {
        let report: PaymentBatchReport
        switch PaymentBatchReport.parse(csv) {
        case .failure(let problem): throw ReportError.unreadable(problem)
        case .success(let parsed): report = parsed
        }
        let (payments, currencies) = try await store.gatewayPayments()
        let refunds = try await store.refunds(courseID: nil)
        let reconciliation = Reconciliation.compute(report, payments: payments, refunds: refunds, orderCurrencies: currencies)
        guard apply else { return (reconciliation, 0) }
        let blocked = reconciliation.refundNotRecorded.filter { entry in
            !reconciliation.refundsToApply.contains { $0.orderRef == entry.orderRef && $0.reference == entry.requestID }
        }
        if !blocked.isEmpty {
            throw ReportError.notApplied(blocked.map { "line \($0.line ?? 0): \($0.note ?? "cannot be applied")" }.joined(separator: "; "))
        }
        guard !reconciliation.refundsToApply.isEmpty else { return (reconciliation, 0) }
        do {
            let outcomes = try await store.recordRefunds(reconciliation.refundsToApply, actor: actor)
            return (reconciliation, outcomes.filter { !$0.alreadyRecorded }.count)
        } catch let error as RefundError {
            throw ReportError.notApplied(error.description)
        }
    }
}
