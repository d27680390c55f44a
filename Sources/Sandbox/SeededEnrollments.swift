import Foundation

/// An enrollment made outside Registrar (an LMS admin, a bulk import, another storefront), for
/// `POST /__sandbox/enrollments` and `RunningSandbox.seedEnrollment`.
public struct SandboxSeedEnrollment: Sendable, Equatable {
    public var username: String
    /// Needed only when the account does not exist: it is then created, as a registration (pending
    /// auto-enroll enrollment_allowed rows for the email become enrollments, as `POST /__sandbox/users` does).
    public var email: String?
    public var name: String?
    public var courseID: String
    /// nil: the course's default mode for a new enrollment, the current one for an existing enrollment.
    public var mode: String?
    /// nil: active for a new enrollment, unchanged for an existing one.
    public var isActive: Bool?

    public init(username: String, email: String? = nil, name: String? = nil, courseID: String, mode: String? = nil, isActive: Bool? = nil) {
        self.username = username
        self.email = email
        self.name = name
        self.courseID = courseID
        self.mode = mode
        self.isActive = isActive
    }
}

/// Generated learners `<prefix><start>` … `<prefix><start + count - 1>` (email `<username>@<emailDomain>`), each
/// enrolled in one course: how a benchmark puts 100,000 enrollments in a course in one call. Accounts that
/// already exist are reused, so the same prefix enrolls the same learners in another course.
public struct SandboxBulkEnrollment: Sendable, Equatable {
    public var courseID: String
    public var count: Int
    public var prefix: String
    public var start: Int
    /// nil: the course's default mode.
    public var mode: String?
    public var isActive: Bool
    public var emailDomain: String

    public init(courseID: String, count: Int, prefix: String = "bulk", start: Int = 1, mode: String? = nil, isActive: Bool = true,
                emailDomain: String = "example.com") {
        self.courseID = courseID
        self.count = count
        self.prefix = prefix
        self.start = start
        self.mode = mode
        self.isActive = isActive
        self.emailDomain = emailDomain
    }

    public func username(_ offset: Int) -> String { "\(prefix)\(start + offset)" }
}

/// What a bulk seeding did.
public struct SandboxBulkEnrollmentResult: Sendable, Equatable {
    /// Enrollments that did not exist before.
    public var created: Int
    /// Enrollments that existed and were set to the mode and active flag asked.
    public var updated: Int
    public var accountsCreated: Int
    public var firstUsername: String
    public var lastUsername: String

    var json: SandboxJSON {
        ["created": .int(created), "updated": .int(updated), "accounts_created": .int(accountsCreated),
         "first_username": .string(firstUsername), "last_username": .string(lastUsername)]
    }
}

/// Enrollments made outside Registrar are state, as the seed file's are: every enrollment call and the list
/// see them, but the ledger does not, since it holds the changes API calls made (the calls under test), and the
/// request counters do not either. No enrollment window or capacity applies to them, as none does to an admin.
extension SandboxState {
    func seedEnrollment(_ seed: SandboxSeedEnrollment) throws -> (record: EnrollmentRecord, created: Bool) {
        let username = seed.username.trimmingCharacters(in: .whitespaces)
        guard !username.isEmpty else { throw SandboxError.invalid("username is required") }
        let course = try seedCourse(seed.courseID, mode: seed.mode)
        if let account = store.accounts[username] {
            if let email = seed.email, email.trimmingCharacters(in: .whitespaces).lowercased() != account.email.lowercased() {
                throw SandboxError.conflict("username \(username) belongs to \(account.email), not \(email)")
            }
        } else {
            guard let email = seed.email else {
                throw SandboxError.invalid("there is no account \(username): send its email to create it")
            }
            _ = try registerUser(SandboxSeed.User(username: username, email: email, name: seed.name))
        }
        let existing = store.enrollments[EnrollmentKey(username: username, courseID: course.id)]
        let record = store.putEnrollment(
            username: username, courseID: course.id, mode: seed.mode ?? existing?.mode ?? course.defaultMode,
            isActive: seed.isActive ?? existing?.isActive ?? true
        )
        return (record, existing == nil)
    }

    func seedEnrollments(_ bulk: SandboxBulkEnrollment) throws -> SandboxBulkEnrollmentResult {
        guard (1...1_000_000).contains(bulk.count) else { throw SandboxError.invalid("count must be between 1 and 1000000") }
        guard bulk.start >= 0 else { throw SandboxError.invalid("start must be a non-negative integer") }
        // The characters of an Open edX username, so the generated ones go through the API's checks too.
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-.@+"))
        guard !bulk.prefix.isEmpty, bulk.prefix.unicodeScalars.allSatisfy(allowed.contains) else {
            throw SandboxError.invalid("prefix must be letters, digits or _-.@+")
        }
        guard !bulk.emailDomain.isEmpty, !bulk.emailDomain.contains("@"), !bulk.emailDomain.contains(" ") else {
            throw SandboxError.invalid("email_domain must be a domain such as example.com")
        }
        let course = try seedCourse(bulk.courseID, mode: bulk.mode)
        let mode = bulk.mode ?? course.defaultMode
        // Checked before anything changes, so a refused bulk leaves the state as it was.
        for offset in 0..<bulk.count {
            let username = bulk.username(offset)
            if store.accounts[username] == nil, let owner = store.usernameByEmail["\(username)@\(bulk.emailDomain)".lowercased()] {
                throw SandboxError.conflict("email \(username)@\(bulk.emailDomain) already belongs to \(owner)")
            }
        }
        store.reserveCapacity(accounts: bulk.count, enrollments: bulk.count, courseID: course.id)
        var result = SandboxBulkEnrollmentResult(created: 0, updated: 0, accountsCreated: 0,
                                                 firstUsername: bulk.username(0), lastUsername: bulk.username(bulk.count - 1))
        for offset in 0..<bulk.count {
            let username = bulk.username(offset)
            if store.accounts[username] == nil {
                try store.addAccount(SandboxSeed.User(username: username, email: "\(username)@\(bulk.emailDomain)"))
                result.accountsCreated += 1
                if !store.allowed.isEmpty, let account = store.accounts[username] { _ = applyAllowed(to: account) }
            }
            let existed = store.enrollments[EnrollmentKey(username: username, courseID: course.id)] != nil
            store.putEnrollment(username: username, courseID: course.id, mode: mode, isActive: bulk.isActive)
            if existed { result.updated += 1 } else { result.created += 1 }
        }
        return result
    }

    private func seedCourse(_ courseID: String, mode: String?) throws -> CourseRun {
        guard let course = store.courses[courseID] else {
            throw SandboxError.notFound("no course run \(courseID); add it with POST /__sandbox/courses")
        }
        if let mode, !course.modes.contains(mode) {
            throw SandboxError.invalid("mode \(mode) is not offered by \(courseID) (\(course.modes.joined(separator: ", ")))")
        }
        return course
    }

    /// `{"username", "email", "name", "course_id", "mode", "is_active"}`; only username and course_id required.
    static func seedEnrollment(from body: SandboxJSON) throws -> SandboxSeedEnrollment {
        guard let fields = body.objectValue else { throw SandboxError.invalid("expected a JSON object") }
        guard let username = fields["username"]?.stringValue else { throw SandboxError.invalid("username (a string) is required") }
        guard let courseID = fields["course_id"]?.stringValue else { throw SandboxError.invalid("course_id (a string) is required") }
        return SandboxSeedEnrollment(
            username: username, email: try optionalString(fields, "email"), name: try optionalString(fields, "name"),
            courseID: courseID, mode: try optionalString(fields, "mode"), isActive: try optionalBool(fields, "is_active")
        )
    }

    /// `{"course_id", "count", "prefix", "start", "mode", "is_active", "email_domain"}`; course_id and count required.
    static func bulkEnrollment(from body: SandboxJSON) throws -> SandboxBulkEnrollment {
        guard let fields = body.objectValue else { throw SandboxError.invalid("expected a JSON object") }
        guard let courseID = fields["course_id"]?.stringValue else { throw SandboxError.invalid("course_id (a string) is required") }
        guard case .int(let count)? = fields["count"] else { throw SandboxError.invalid("count must be an integer") }
        var bulk = SandboxBulkEnrollment(courseID: courseID, count: count, mode: try optionalString(fields, "mode"))
        if let prefix = try optionalString(fields, "prefix") { bulk.prefix = prefix }
        if let domain = try optionalString(fields, "email_domain") { bulk.emailDomain = domain }
        if let isActive = try optionalBool(fields, "is_active") { bulk.isActive = isActive }
        if let value = fields["start"], !value.isNull {
            guard case .int(let start) = value else { throw SandboxError.invalid("start must be an integer") }
            bulk.start = start
        }
        return bulk
    }

    private static func optionalString(_ fields: [String: SandboxJSON], _ key: String) throws -> String? {
        guard let value = fields[key], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw SandboxError.invalid("\(key) must be a string") }
        return text
    }

    private static func optionalBool(_ fields: [String: SandboxJSON], _ key: String) throws -> Bool? {
        guard let value = fields[key], !value.isNull else { return nil }
        guard let flag = value.boolValue else { throw SandboxError.invalid("\(key) must be true or false") }
        return flag
    }
}
