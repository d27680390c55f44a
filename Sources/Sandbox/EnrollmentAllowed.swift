import Foundation

/// `/api/enrollment/v1/enrollment_allowed/`: CourseEnrollmentAllowed rows for people who have no
/// account yet, and their conversion into enrollments when the account registers.
extension SandboxState {
    func listAllowed(email: String?) -> Reply {
        let rows = store.allowed.filter { row in email.map { row.email.lowercased() == $0.lowercased() } ?? false }
        return .ok(.array(rows.map(allowedJSON)))
    }

    func createAllowed(_ body: SandboxJSON) -> Reply {
        let fields: (email: String, courseID: String, autoEnroll: Bool)
        switch Self.validateAllowed(body) {
        case .success(let valid): fields = valid
        case .failure(let error): return error.reply
        }
        if store.allowed.contains(where: { $0.email.lowercased() == fields.email.lowercased() && $0.courseID == fields.courseID }) {
            return .message(
                .conflict,
                "An enrollment allowed with email \(fields.email) and course \(fields.courseID) already exists."
            )
        }
        let row = AllowedRecord(email: fields.email, courseID: fields.courseID, autoEnroll: fields.autoEnroll, username: nil)
        store.allowed.append(row)
        store.ledger.append(.allowedCreate, user: nil, email: row.email, courseID: row.courseID, mode: nil)
        return .json(.created, allowedJSON(row))
    }

    func deleteAllowed(_ body: SandboxJSON) -> Reply {
        let fields: (email: String, courseID: String, autoEnroll: Bool)
        switch Self.validateAllowed(body) {
        case .success(let valid): fields = valid
        case .failure(let error): return error.reply
        }
        guard let index = store.allowed.firstIndex(where: {
            $0.email.lowercased() == fields.email.lowercased() && $0.courseID == fields.courseID
        }) else {
            return .message(
                .notFound,
                "An enrollment allowed with email \(fields.email) and course \(fields.courseID) doesn't exists."
            )
        }
        let row = store.allowed.remove(at: index)
        store.ledger.append(.allowedDelete, user: nil, email: row.email, courseID: row.courseID, mode: nil)
        return .empty(.noContent)
    }

    /// What the LMS does on registration: every auto_enroll row for the email becomes an
    /// active enrollment in the course's default mode, with no window or capacity check.
    /// Returns the courses enrolled in.
    func applyAllowed(to account: Account) -> [String] {
        var enrolled: [String] = []
        for index in store.allowed.indices {
            let row = store.allowed[index]
            guard row.autoEnroll, row.username == nil, row.email.lowercased() == account.email.lowercased(),
                let course = store.courses[row.courseID]
            else { continue }
            store.allowed[index].username = account.username
            let key = EnrollmentKey(username: account.username, courseID: course.id)
            if store.enrollments[key]?.isActive == true { continue }
            store.putEnrollment(username: account.username, courseID: course.id, mode: course.defaultMode, isActive: true)
            store.ledger.append(.autoEnroll, user: account.username, email: account.email, courseID: course.id, mode: course.defaultMode)
            enrolled.append(course.id)
        }
        return enrolled
    }

    private func allowedJSON(_ row: AllowedRecord) -> SandboxJSON {
        ["email": .string(row.email), "course_id": .string(row.courseID), "auto_enroll": .bool(row.autoEnroll)]
    }

    /// CourseEnrollmentAllowedSerializer's validation, with DRF's field-error bodies.
    private static func validateAllowed(_ body: SandboxJSON) -> Result<(email: String, courseID: String, autoEnroll: Bool), ReplyError> {
        var errors: [String: SandboxJSON] = [:]
        let email = body["email"]
        let course = body["course_id"]
        switch email {
        case nil, .null?: errors["email"] = ["This field is required."]
        case .string(let text)? where text.isEmpty: errors["email"] = ["This field may not be blank."]
        case .string(let text)? where !isEmailAddress(text): errors["email"] = ["Enter a valid email address."]
        case .string?: break
        default: errors["email"] = ["Not a valid string."]
        }
        switch course {
        case nil, .null?: errors["course_id"] = ["This field is required."]
        case .string(let text)? where text.isEmpty: errors["course_id"] = ["This field may not be blank."]
        case .string(let text)? where !CourseKey.isValid(text): errors["course_id"] = .array([.string("Invalid course key: \(text)")])
        case .string?: break
        default: errors["course_id"] = ["Not a valid string."]
        }
        var autoEnroll = false
        if let flag = body["auto_enroll"], !flag.isNull {
            guard let value = flag.boolValue else {
                errors["auto_enroll"] = ["Must be a valid boolean."]
                return .failure(ReplyError(reply: .json(.badRequest, .object(errors))))
            }
            autoEnroll = value
        }
        guard errors.isEmpty, let emailText = email?.stringValue, let courseText = course?.stringValue else {
            return .failure(ReplyError(reply: .json(.badRequest, .object(errors))))
        }
        return .success((emailText, courseText, autoEnroll))
    }

    private static func isEmailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(" ")
    }
}
