import Foundation

/// One enrollment change the sandbox applied. Calls that change nothing (already enrolled in the
/// same mode, unenrolling an inactive enrollment) add no entry, so "one entry per intended change"
/// is what a correct client produces however often it retries.
public struct LedgerEntry: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        /// A new active enrollment, or a reactivated one (mode as now active).
        case enroll
        /// An active enrollment made inactive, or an inactive one created by an unenroll call.
        case unenroll
        /// The mode of an existing enrollment changed and its active flag did not.
        case modeChange = "mode_change"
        case allowedCreate = "allowed_create"
        case allowedDelete = "allowed_delete"
        /// A pending enrollment_allowed row turned into an enrollment when its account registered.
        case autoEnroll = "auto_enroll"
        /// A Studio course rerun; `course_id` is the new run, `source_course_id` the one copied.
        case rerun
        /// A Studio clone (another organization allowed); `course_id` is the new run, `source_course_id` the one copied.
        case clone
    }

    public var seq: Int
    public var at: Date
    public var action: Action
    public var user: String?
    public var email: String?
    public var courseID: String
    public var mode: String?
    /// `order_number` from the call's `enrollment_attributes` (namespace `order`), when sent.
    public var order: String?
    public var sourceCourseID: String?

    public init(
        seq: Int, at: Date, action: Action, user: String?, email: String?, courseID: String,
        mode: String?, order: String?, sourceCourseID: String? = nil
    ) {
        self.seq = seq
        self.at = at
        self.action = action
        self.user = user
        self.email = email
        self.courseID = courseID
        self.mode = mode
        self.order = order
        self.sourceCourseID = sourceCourseID
    }

    /// `at` is compared at the millisecond precision it is written with (truncated, so up to 1 ms apart), so an entry read back
    /// from `GET /__sandbox/ledger` equals the in-process one.
    public static func == (lhs: LedgerEntry, rhs: LedgerEntry) -> Bool {
        lhs.seq == rhs.seq && abs(lhs.at.timeIntervalSince(rhs.at)) < 0.0015 && lhs.action == rhs.action
            && lhs.user == rhs.user && lhs.email == rhs.email && lhs.courseID == rhs.courseID
            && lhs.mode == rhs.mode && lhs.order == rhs.order && lhs.sourceCourseID == rhs.sourceCourseID
    }

    enum CodingKeys: String, CodingKey {
        case seq, at, action, user, email, mode, order
        case courseID = "course_id"
        case sourceCourseID = "source_course_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.seq = try c.decode(Int.self, forKey: .seq)
        let at = try c.decode(String.self, forKey: .at)
        guard let date = Timestamp.parse(at) else {
            throw DecodingError.dataCorruptedError(forKey: .at, in: c, debugDescription: "not ISO 8601: \(at)")
        }
        self.at = date
        self.action = try c.decode(Action.self, forKey: .action)
        self.user = try c.decodeIfPresent(String.self, forKey: .user)
        self.email = try c.decodeIfPresent(String.self, forKey: .email)
        self.courseID = try c.decode(String.self, forKey: .courseID)
        self.mode = try c.decodeIfPresent(String.self, forKey: .mode)
        self.order = try c.decodeIfPresent(String.self, forKey: .order)
        self.sourceCourseID = try c.decodeIfPresent(String.self, forKey: .sourceCourseID)
    }

    // Explicit nulls keep every entry the same shape for scripts reading /__sandbox/ledger.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(Timestamp.format(at), forKey: .at)
        try c.encode(action, forKey: .action)
        try c.encode(user, forKey: .user)
        try c.encode(email, forKey: .email)
        try c.encode(courseID, forKey: .courseID)
        try c.encode(mode, forKey: .mode)
        try c.encode(order, forKey: .order)
        try c.encodeIfPresent(sourceCourseID, forKey: .sourceCourseID)
    }
}

/// The append-only list behind `GET /__sandbox/ledger`.
struct Ledger {
    private(set) var entries: [LedgerEntry] = []

    mutating func append(
        _ action: LedgerEntry.Action, user: String?, email: String?, courseID: String,
        mode: String?, order: String? = nil, sourceCourseID: String? = nil
    ) {
        entries.append(
            LedgerEntry(
                seq: entries.count + 1, at: Self.now(), action: action, user: user, email: email,
                courseID: courseID, mode: mode, order: order, sourceCourseID: sourceCourseID
            )
        )
    }

    mutating func removeAll() { entries.removeAll() }

    /// Whole milliseconds, what the JSON carries.
    private static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
    }
}
