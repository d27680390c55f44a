import Foundation

/// `reports audit`: every active enrollment of a course in the LMS explained by one cause, and the gaps both
/// ways. Pure: the LMS client reads the enrollments, the store gathers what Registrar did.
public struct EnrollmentAudit: Sendable, Equatable {
    /// One row of the LMS's enrollment list, with the learner's email when it is known.
    public struct Enrollment: Sendable, Equatable {
        public var username: String
        public var email: String?
        public var mode: String?
        public var isActive: Bool

        public init(username: String, email: String?, mode: String? = nil, isActive: Bool) {
            self.username = username
            self.email = email?.lowercased()
            self.mode = mode
            self.isActive = isActive
        }
    }

    /// The job that should have enrolled a learner, as the store last saw it.
    public struct JobRef: Sendable, Equatable {
        public var id: Int64
        public var state: String
        public var error: String?

        public init(id: Int64, state: String, error: String? = nil) {
            self.id = id
            self.state = state
            self.error = error
        }
    }

    /// Something Registrar did that should leave a learner enrolled (or, refunded, not).
    public struct Grant: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable { case paidSeat = "paid_seat", code, contract, manual }
        public var kind: Kind
        public var email: String
        /// The order reference, the code (masked), the contract id, or the job.
        public var reference: String
        public var job: JobRef?
        public var refunded: Bool

        public init(kind: Kind, email: String, reference: String, job: JobRef? = nil, refunded: Bool = false) {
            self.kind = kind
            self.email = email.lowercased()
            self.reference = reference
            self.job = job
            self.refunded = refunded
        }
    }

    public enum Cause: String, Sendable, Equatable, CaseIterable {
        case staff
        case paidSeat = "paid_single_seat"
        case code = "redeemed_code"
        case contract = "contract_learner"
        case manual
        case unexplained
    }

    public struct Finding: Sendable, Equatable {
        public var email: String?
        public var username: String?
        public var courseID: String
        public var reference: String?
        public var job: JobRef?
    }

    public var courseID: String
    /// Active enrollments in the LMS.
    public var active: Int
    /// Inactive rows in the LMS (unenrolled learners), not explained.
    public var inactive: Int
    public var byCause: [Cause: Int]
    public var enrolledWithoutPayment: [Finding]
    public var paidWithoutEnrollment: [Finding]
    public var refundedButEnrolled: [Finding]

    /// The seed's equation with the numbers filled in; both sides are equal by construction, and saying so
    /// shows a reader that every enrollment was counted once.
    public var equation: String {
        let parts = Cause.allCases.map { "\(byCause[$0] ?? 0) \(Self.words[$0]!)" }
        return "\(active) active enrollments = " + parts.joined(separator: " + ")
    }

    public var balances: Bool { byCause.values.reduce(0, +) == active }

    static let words: [Cause: String] = [
        .staff: "course staff", .paidSeat: "paid single seats", .code: "redeemed codes", .contract: "contract learners",
        .manual: "manually enrolled", .unexplained: "unexplained",
    ]

    public static func compute(courseID: String, enrollments: [Enrollment], grants: [Grant], staff: Set<String>) -> EnrollmentAudit {
        var byEmail: [String: [Grant]] = [:]
        for grant in grants { byEmail[grant.email, default: []].append(grant) }
        var counts: [Cause: Int] = Dictionary(uniqueKeysWithValues: Cause.allCases.map { ($0, 0) })
        var withoutPayment: [Finding] = [], refundedButEnrolled: [Finding] = []
        var activeEmails = Set<String>()
        var active = 0, inactive = 0
        for enrollment in enrollments {
            guard enrollment.isActive else { inactive += 1; continue }
            active += 1
            let email = enrollment.email
            if let email { activeEmails.insert(email) }
            let mine = email.flatMap { byEmail[$0] } ?? []
            let cause = cause(email: email, grants: mine, staff: staff)
            counts[cause, default: 0] += 1
            if cause == .unexplained {
                withoutPayment.append(Finding(email: email, username: enrollment.username, courseID: courseID, reference: nil, job: nil))
                if let refunded = mine.first(where: { $0.refunded }) {
                    refundedButEnrolled.append(Finding(email: email, username: enrollment.username, courseID: courseID,
                                                       reference: refunded.reference, job: refunded.job))
                }
            }
        }
        var withoutEnrollment: [Finding] = []
        // Paid seats and redemptions only: an attached contract learner may not have registered yet.
        for grant in grants where !grant.refunded && [.paidSeat, .code].contains(grant.kind) && !activeEmails.contains(grant.email) {
            withoutEnrollment.append(Finding(email: grant.email, username: nil, courseID: courseID, reference: grant.reference, job: grant.job))
        }
        return EnrollmentAudit(courseID: courseID, active: active, inactive: inactive, byCause: counts,
                               enrolledWithoutPayment: withoutPayment, paidWithoutEnrollment: withoutEnrollment,
                               refundedButEnrolled: refundedButEnrolled)
    }

    /// The first cause that holds, in the report's order.
    static func cause(email: String?, grants: [Grant], staff: Set<String>) -> Cause {
        guard let email else { return .unexplained }
        if staff.contains(email) { return .staff }
        let live = grants.filter { !$0.refunded }
        for (kind, cause) in [(Grant.Kind.paidSeat, Cause.paidSeat), (.code, .code), (.contract, .contract), (.manual, .manual)]
        where live.contains(where: { $0.kind == kind }) {
            return cause
        }
        return .unexplained
    }

    public var json: JSONValue {
        func list(_ findings: [Finding]) -> JSONValue {
            .array(findings.map { finding in
                var fields: [String: JSONValue] = ["course_id": .string(finding.courseID)]
                fields["email"] = finding.email.map(JSONValue.string) ?? .null
                if let username = finding.username { fields["username"] = .string(username) }
                if let reference = finding.reference { fields["reference"] = .string(reference) }
                if let job = finding.job {
                    fields["job_id"] = .number(Double(job.id))
                    fields["job_state"] = .string(job.state)
                    if let error = job.error { fields["job_error"] = .string(error) }
                }
                return .object(fields)
            })
        }
        return .object([
            "course_id": .string(courseID),
            "active_enrollments": .number(Double(active)),
            "inactive_enrollments": .number(Double(inactive)),
            "explained": .object(Dictionary(uniqueKeysWithValues: Cause.allCases.map { ($0.rawValue, JSONValue.number(Double(byCause[$0] ?? 0))) })),
            "equation": .string(equation),
            "balances": .bool(balances),
            "enrolled_without_payment": list(enrolledWithoutPayment),
            "paid_without_enrollment": list(paidWithoutEnrollment),
            "refunded_but_enrolled": list(refundedButEnrolled),
        ])
    }

    /// One row per finding, its list named in the first column.
    public var csv: String {
        var writer = CSVWriter(header: ["list", "course_id", "email", "username", "reference", "job_id", "job_state"])
        for (name, findings) in [("enrolled_without_payment", enrolledWithoutPayment), ("paid_without_enrollment", paidWithoutEnrollment),
                                 ("refunded_but_enrolled", refundedButEnrolled)] {
            for finding in findings {
                writer.add([name, finding.courseID, finding.email ?? "", finding.username ?? "", finding.reference ?? "",
                            finding.job.map { String($0.id) } ?? "", finding.job?.state ?? ""])
            }
        }
        return writer.text
    }
}

extension EnrollmentAudit {
    /// What the store gathers for one course's audit.
    public struct Facts: Sendable {
        public struct Redemption: Sendable {
            public var email: String
            /// As logs show it: a finance report is not where a whole code belongs.
            public var code: String
            public var job: JobRef?
            /// The code was voided after it was redeemed (`codes revoke`): it no longer explains the enrollment.
            public var revoked: Bool

            public init(email: String, code: String, job: JobRef?, revoked: Bool = false) {
                self.email = email
                self.code = code
                self.job = job
                self.revoked = revoked
            }
        }

        /// The lines of every order with a line of the course (a refund of an order is spread over all of them).
        public var lines: [SaleLine]
        public var refunds: [RefundRecord]
        /// The enroll jobs of the lines, by dedupe key.
        public var enrollJobs: [String: JobRef]
        public var redemptions: [Redemption]
        /// Learners attached to a contract with a run of the course.
        public var contractLearners: [(email: String, contractID: Int64)]
        /// `registrar enroll` and the API's enrollments of the course.
        public var manual: [(email: String, job: JobRef)]

        public init(lines: [SaleLine] = [], refunds: [RefundRecord] = [], enrollJobs: [String: JobRef] = [:],
                    redemptions: [Redemption] = [], contractLearners: [(email: String, contractID: Int64)] = [],
                    manual: [(email: String, job: JobRef)] = []) {
            self.lines = lines
            self.refunds = refunds
            self.enrollJobs = enrollJobs
            self.redemptions = redemptions
            self.contractLearners = contractLearners
            self.manual = manual
        }
    }

    /// The facts as grants: a paid seat per line that enrolls its buyer (refunded when given back whole), a code
    /// per redemption, a contract learner, a manual enrollment.
    public static func grants(courseID: String, facts: Facts) -> [Grant] {
        let refunded = RefundAllocation.whollyRefunded(lines: facts.lines, refunds: facts.refunds)
        var grants: [Grant] = []
        for line in facts.lines where line.courseID == courseID && line.enrollsBuyer {
            let reference = line.source == .woocommerce ? "woocommerce order \(line.orderRef) line \(line.line)" : "order \(line.orderRef)"
            grants.append(Grant(kind: .paidSeat, email: line.email, reference: reference,
                                job: line.enrollKey.flatMap { facts.enrollJobs[$0] }, refunded: refunded.contains(line.key)))
        }
        grants += facts.redemptions.map { Grant(kind: .code, email: $0.email, reference: "code \($0.code)", job: $0.job, refunded: $0.revoked) }
        grants += facts.contractLearners.map { Grant(kind: .contract, email: $0.email, reference: "contract \($0.contractID)") }
        grants += facts.manual.map { Grant(kind: .manual, email: $0.email, reference: "job \($0.job.id)", job: $0.job) }
        return grants
    }
}
