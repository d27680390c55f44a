import OpenEdX
import RegistrarCore
import RegistrarServer
import RegistrarStore

/// The audit's view of the LMS: the course's enrollment list, every page, with each learner's email from the
/// learners Registrar looked up before, and from the LMS's accounts (by username, in batches) for the rest.
struct LMSRoster: EnrollmentRoster {
    let client: OpenEdXClient
    let store: any ReportSource

    func enrollments(courseID: String) async throws -> [EnrollmentAudit.Enrollment] {
        let rows: [EnrollmentInfo]
        switch await client.enrollments(courseID: courseID) {
        case .ok(let list, _): rows = list
        case .failed(let outcome, let status): throw ReportError.lms("\(outcome)" + (status.map { " (HTTP \($0))" } ?? ""))
        }
        let usernames = Array(Set(rows.map(\.user)))
        var emails = try await store.emails(forUsernames: usernames)
        let unknown = usernames.filter { emails[$0] == nil }
        if !unknown.isEmpty {
            switch await client.accounts(usernames: unknown) {
            case .ok(let found, _): for (name, email) in found { emails[name] = email.lowercased() }
            case .failed(let outcome, let status): throw ReportError.lms("accounts: \(outcome)" + (status.map { " (HTTP \($0))" } ?? ""))
            }
        }
        return rows.map { EnrollmentAudit.Enrollment(username: $0.user, email: emails[$0.user], mode: $0.mode, isActive: $0.isActive) }
    }
}
