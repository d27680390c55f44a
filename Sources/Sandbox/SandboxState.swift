import Foundation

/// Everything the sandbox knows. One actor, so each API call is applied atomically and the
/// ledger order is the order calls took effect.
actor SandboxState {
    struct Account: Sendable {
        var id: Int
        var username: String
        var email: String
        var name: String
        var joined: Date
    }

    struct CourseRun: Sendable {
        var id: String
        var title: String
        var modes: [String]
        var enrollmentOpen: Bool
        var maxEnrollments: Int?
        var pacingType: String
        var start: Date?
        var end: Date?
        var enrollmentStart: Date?
        var enrollmentEnd: Date?

        /// The LMS's `_default_course_mode`: audit when offered, else honor, else audit anyway
        /// (which then fails mode validation, as it does there).
        var defaultMode: String {
            if modes.contains("audit") { return "audit" }
            if modes.contains("honor") { return "honor" }
            return "audit"
        }

        func isEnrollmentOpen(at now: Date) -> Bool {
            guard enrollmentOpen else { return false }
            if let enrollmentStart, now < enrollmentStart { return false }
            if let enrollmentEnd, now >= enrollmentEnd { return false }
            return true
        }
    }

    struct EnrollmentKey: Hashable, Sendable {
        var username: String
        var courseID: String
    }

    struct EnrollmentRecord: Sendable {
        /// Creation order; the enrollments list pages on it.
        var id: Int
        var username: String
        var courseID: String
        var mode: String
        var isActive: Bool
        var created: Date
    }

    struct AllowedRecord: Sendable {
        var email: String
        var courseID: String
        var autoEnroll: Bool
        /// Set when the account registered and the row was used, as the LMS links it.
        var username: String?
    }

    /// The data a reset puts back to the seed.
    struct Store: Sendable {
        var accounts: [String: Account] = [:]
        var usernameByEmail: [String: String] = [:]
        var courses: [String: CourseRun] = [:]
        /// Changed only through `putEnrollment`, which keeps the indexes below in step.
        private(set) var enrollments: [EnrollmentKey: EnrollmentRecord] = [:]
        /// `enrollmentKeys[id - 1]` is the enrollment with that id: ids are 1, 2, 3… and none is ever removed,
        /// so this is creation order and the unfiltered list pages by index.
        private(set) var enrollmentKeys: [EnrollmentKey] = []
        /// Each course's and each user's enrollment ids, ascending (appended as created), so a page of one
        /// course's list costs a binary search and the page itself, not a sort of every enrollment.
        private(set) var enrollmentIDsByCourse: [String: [Int]] = [:]
        private(set) var enrollmentIDsByUser: [String: [Int]] = [:]
        /// Active enrollments per course, for `max_enrollments` without counting on every enroll call.
        private(set) var activeEnrollmentCounts: [String: Int] = [:]
        var allowed: [AllowedRecord] = []
        var ledger = Ledger()
        var wooOrders: [Int: SandboxJSON] = [:]
        /// `date_created_gmt` and `date_modified_gmt` of each order, parsed.
        var wooCreated: [Int: Date] = [:]
        var wooModified: [Int: Date] = [:]
        var wooRefunds: [Int: [Int: SandboxJSON]] = [:]
        var wooWebhooks: [Int: SandboxJSON] = [:]
        var wooSettings = WooSettings()
    }

    /// How the store side misbehaves (`POST /__sandbox/woocommerce/settings`).
    struct WooSettings: Sendable {
        /// Like an old store: `modified_after` is not known, so every order is listed.
        var ignoreModifiedAfter = false
        /// Every store API call answers 503, as a store down for maintenance does.
        var down = false

        var json: SandboxJSON { ["ignore_modified_after": .bool(ignoreModifiedAfter), "down": .bool(down)] }
    }

    /// How the enrollments list pages (`POST /__sandbox/lms/settings`); a reset restores the configuration's.
    struct LMSSettings: Sendable {
        var enrollmentsPagination: SandboxPagination
        var enrollmentsPageSize: Int

        init(_ configuration: SandboxConfiguration) {
            enrollmentsPagination = configuration.enrollmentsPagination
            enrollmentsPageSize = configuration.enrollmentsPageSize
        }

        var json: SandboxJSON {
            ["enrollments_pagination": .string(enrollmentsPagination.rawValue), "enrollments_page_size": .int(enrollmentsPageSize)]
        }
    }

    let configuration: SandboxConfiguration
    /// What the SMTP sink accepted (outlives resets of the store: mail is not store data).
    let mailbox = Mailbox()
    var store = Store()
    var faults: SandboxFaults
    var lmsSettings: LMSSettings
    var stats = SandboxStats()
    var tokens: [String: TokenRecord] = [:]
    var throttleHistory: [String: [ContinuousClock.Instant]] = [:]
    var random: SplitMix64
    /// `http://host:port` once the server listens; links fall back to it without a Host header.
    var origin: String

    init(configuration: SandboxConfiguration) throws {
        self.configuration = configuration
        self.faults = configuration.faults
        self.lmsSettings = LMSSettings(configuration)
        self.random = SplitMix64(seed: configuration.randomSeed ?? UInt64.random(in: .min ... .max))
        self.origin = "http://\(configuration.host):\(configuration.port)"
        self.store = try Self.makeStore(seed: configuration.seed)
    }

    func setOrigin(_ origin: String) { self.origin = origin }

    func reset() throws {
        store = try Self.makeStore(seed: configuration.seed)
        stats = SandboxStats()
        throttleHistory = [:]
        faults = configuration.faults
        lmsSettings = LMSSettings(configuration)
    }

    private static func makeStore(seed: SandboxSeed) throws -> Store {
        var store = Store()
        for user in seed.users {
            try store.addAccount(user)
        }
        for course in seed.courses {
            _ = try store.upsertCourse(course)
        }
        for enrollment in seed.enrollments {
            guard store.accounts[enrollment.user] != nil else {
                throw SandboxError.invalid("seed enrollment for unknown user \(enrollment.user)")
            }
            guard let course = store.courses[enrollment.courseID] else {
                throw SandboxError.invalid("seed enrollment in unknown course \(enrollment.courseID)")
            }
            guard course.modes.contains(enrollment.mode) else {
                throw SandboxError.invalid("seed enrollment in mode \(enrollment.mode), not offered by \(course.id)")
            }
            store.putEnrollment(username: enrollment.user, courseID: enrollment.courseID, mode: enrollment.mode, isActive: enrollment.isActive)
        }
        for order in seed.woocommerce.orders {
            _ = try store.upsertOrder(order, touch: false)
        }
        for refund in seed.woocommerce.refunds {
            _ = try store.addRefund(orderID: refund.orderID, refund: refund.refund, touch: false)
        }
        for webhook in seed.woocommerce.webhooks {
            _ = try store.upsertWebhook(webhook)
        }
        return store
    }

    // MARK: Shared by the enrollment routes

    func enrollmentJSON(_ record: EnrollmentRecord) -> SandboxJSON {
        [
            "created": .string(Timestamp.format(record.created)),
            "mode": .string(record.mode),
            "is_active": .bool(record.isActive),
            "user": .string(record.username),
            "course_details": store.courses[record.courseID].map(courseDetailsJSON) ?? ["course_id": .string(record.courseID)],
        ]
    }

    /// The LMS's `course_details` (CourseSerializer), shared by enrollments and mode errors.
    func courseDetailsJSON(_ course: CourseRun) -> SandboxJSON {
        [
            "course_id": .string(course.id),
            "course_name": .string(course.title),
            "enrollment_start": .optional(course.enrollmentStart.map(Timestamp.format)),
            "enrollment_end": .optional(course.enrollmentEnd.map(Timestamp.format)),
            "course_start": .optional(course.start.map(Timestamp.format)),
            "course_end": .optional(course.end.map(Timestamp.format)),
            "invite_only": false,
            "pacing_type": .string(course.pacingType == "self_paced" ? "Self Paced" : "Instructor Paced"),
            "course_modes": .array(course.modes.map { slug in
                [
                    "slug": .string(slug),
                    "name": .string(Self.modeName(slug)),
                    "min_price": .int(slug == "audit" || slug == "honor" ? 0 : 49),
                    "suggested_prices": "",
                    "currency": "usd",
                    "expiration_datetime": nil,
                    "description": nil,
                    "sku": nil,
                    "bulk_sku": nil,
                ]
            }),
        ]
    }

    private static func modeName(_ slug: String) -> String {
        switch slug {
        case "audit": return "Audit"
        case "honor": return "Honor"
        case "verified": return "Verified Certificate"
        case "professional", "no-id-professional": return "Professional Education"
        case "credit": return "Credit"
        default: return slug.capitalized
        }
    }

    func activeEnrollmentCount(courseID: String) -> Int {
        store.activeEnrollmentCounts[courseID, default: 0]
    }
}

extension SandboxState.Store {
    mutating func addAccount(_ user: SandboxSeed.User) throws {
        let username = user.username.trimmingCharacters(in: .whitespaces)
        let email = user.email.trimmingCharacters(in: .whitespaces)
        guard !username.isEmpty, !email.isEmpty, email.contains("@") else {
            throw SandboxError.invalid("a user needs a username and an email address")
        }
        guard accounts[username] == nil else { throw SandboxError.conflict("username \(username) already exists") }
        guard usernameByEmail[email.lowercased()] == nil else {
            throw SandboxError.conflict("email \(email) already belongs to an account")
        }
        accounts[username] = SandboxState.Account(
            id: accounts.count + 1, username: username, email: email, name: user.name ?? username, joined: Date()
        )
        usernameByEmail[email.lowercased()] = username
    }

    /// The account with this email, matched case-insensitively as MySQL's collation does.
    func account(email: String) -> SandboxState.Account? {
        usernameByEmail[email.lowercased()].flatMap { accounts[$0] }
    }

    /// Returns true when the course is new.
    mutating func upsertCourse(_ course: SandboxSeed.Course) throws -> Bool {
        guard CourseKey.isValid(course.id) else { throw SandboxError.invalid("'\(course.id)' is not a course key") }
        guard !course.modes.isEmpty else { throw SandboxError.invalid("course \(course.id) offers no mode") }
        func date(_ text: String?, _ field: String) throws -> Date? {
            guard let text else { return nil }
            guard let value = Timestamp.parse(text) else { throw SandboxError.invalid("\(field) '\(text)' is not ISO 8601") }
            return value
        }
        let run = SandboxState.CourseRun(
            id: course.id,
            title: course.title ?? courses[course.id]?.title ?? CourseKey.defaultTitle(course.id),
            modes: course.modes,
            enrollmentOpen: course.enrollmentOpen,
            maxEnrollments: course.maxEnrollments,
            pacingType: course.pacingType ?? "instructor_paced",
            start: try date(course.start, "start"),
            end: try date(course.end, "end"),
            enrollmentStart: try date(course.enrollmentStart, "enrollment_start"),
            enrollmentEnd: try date(course.enrollmentEnd, "enrollment_end")
        )
        let isNew = courses[course.id] == nil
        courses[course.id] = run
        return isNew
    }

    @discardableResult
    mutating func putEnrollment(username: String, courseID: String, mode: String, isActive: Bool) -> SandboxState.EnrollmentRecord {
        let key = SandboxState.EnrollmentKey(username: username, courseID: courseID)
        if var existing = enrollments[key] {
            if existing.isActive != isActive { activeEnrollmentCounts[courseID, default: 0] += isActive ? 1 : -1 }
            existing.mode = mode
            existing.isActive = isActive
            enrollments[key] = existing
            return existing
        }
        let record = SandboxState.EnrollmentRecord(
            id: enrollmentKeys.count + 1, username: username, courseID: courseID, mode: mode, isActive: isActive, created: Date()
        )
        enrollments[key] = record
        enrollmentKeys.append(key)
        enrollmentIDsByCourse[courseID, default: []].append(record.id)
        enrollmentIDsByUser[username, default: []].append(record.id)
        if isActive { activeEnrollmentCounts[courseID, default: 0] += 1 }
        return record
    }

    /// Room for a bulk seeding, so 100,000 inserts do not regrow every table a dozen times.
    mutating func reserveCapacity(accounts more: Int, enrollments added: Int, courseID: String) {
        accounts.reserveCapacity(accounts.count + more)
        usernameByEmail.reserveCapacity(usernameByEmail.count + more)
        enrollments.reserveCapacity(enrollments.count + added)
        enrollmentKeys.reserveCapacity(enrollmentKeys.count + added)
        enrollmentIDsByUser.reserveCapacity(enrollmentIDsByUser.count + added)
        enrollmentIDsByCourse[courseID, default: []].reserveCapacity((enrollmentIDsByCourse[courseID]?.count ?? 0) + added)
    }

    /// The enrollment with this id (`1...enrollmentKeys.count`).
    func enrollment(id: Int) -> SandboxState.EnrollmentRecord {
        enrollments[enrollmentKeys[id - 1]]!
    }

    /// Every enrollment in creation order.
    var enrollmentsInOrder: [SandboxState.EnrollmentRecord] {
        enrollmentKeys.map { enrollments[$0]! }
    }
}

/// Open edX course keys, checked as loosely as `CourseKey.from_string` accepts them.
enum CourseKey {
    private static let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-~.:%"))

    static func isValid(_ key: String) -> Bool {
        parts(key) != nil
    }

    /// (org, number, run) of `course-v1:ORG+NUM+RUN` or the old `ORG/NUM/RUN`.
    static func parts(_ key: String) -> (org: String, number: String, run: String)? {
        let pieces: [Substring]
        if key.hasPrefix("course-v1:") {
            pieces = key.dropFirst("course-v1:".count).split(separator: "+", omittingEmptySubsequences: false)
        } else {
            pieces = key.split(separator: "/", omittingEmptySubsequences: false)
        }
        guard pieces.count == 3, pieces.allSatisfy(isValidPart) else { return nil }
        return (String(pieces[0]), String(pieces[1]), String(pieces[2]))
    }

    static func isValidPart(_ part: Substring) -> Bool {
        !part.isEmpty && part.unicodeScalars.allSatisfy { allowed.contains($0) }
    }

    static func defaultTitle(_ key: String) -> String {
        parts(key).map { "\($0.org) \($0.number) \($0.run)" } ?? key
    }
}
