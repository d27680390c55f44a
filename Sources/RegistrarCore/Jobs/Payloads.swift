import Foundation

/// What an `enroll` job carries.
public struct EnrollPayload: Codable, Sendable, Equatable {
    public var email: String
    public var courseID: String
    /// `nil` lets the LMS choose (audit).
    public var mode: String?
    /// The order it pays for, sent as an enrollment attribute so the LMS record points back at the sale.
    public var orderReference: String?

    public init(email: String, courseID: String, mode: String? = nil, orderReference: String? = nil) {
        self.email = email
        self.courseID = courseID
        self.mode = mode
        self.orderReference = orderReference
    }

    enum CodingKeys: String, CodingKey {
        case email
        case courseID = "course_id"
        case mode
        case orderReference = "order_reference"
    }
}

/// What an `unenroll` job carries (a soft unenroll: no mode).
public struct UnenrollPayload: Codable, Sendable, Equatable {
    public var email: String
    public var courseID: String
    public var orderReference: String?

    public init(email: String, courseID: String, orderReference: String? = nil) {
        self.email = email
        self.courseID = courseID
        self.orderReference = orderReference
    }

    enum CodingKeys: String, CodingKey {
        case email
        case courseID = "course_id"
        case orderReference = "order_reference"
    }
}

/// What a `rerun` job carries: a Studio course rerun of `sourceCourseID` as run `run`.
public struct RerunPayload: Codable, Sendable, Equatable {
    public var sourceCourseID: String
    public var run: String
    public var title: String?
    /// `self_paced` or `instructor_paced`.
    public var pacing: String?
    public var start: String?
    public var end: String?

    public init(sourceCourseID: String, run: String, title: String? = nil, pacing: String? = nil,
                start: String? = nil, end: String? = nil) {
        self.sourceCourseID = sourceCourseID
        self.run = run
        self.title = title
        self.pacing = pacing
        self.start = start
        self.end = end
    }

    enum CodingKeys: String, CodingKey {
        case sourceCourseID = "source_course_id"
        case run, title, pacing, start, end
    }

    /// The key the new run will have: organisation and number stay the source's.
    public var targetCourseID: String? {
        CourseKey(sourceCourseID).map { "course-v1:\($0.org)+\($0.number)+\(run)" }
    }
}

/// The parts of a `course-v1:ORG+NUMBER+RUN` key.
public struct CourseKey: Sendable, Equatable {
    public var org: String
    public var number: String
    public var run: String

    public init?(_ text: String) {
        guard text.hasPrefix("course-v1:") else { return nil }
        let parts = text.dropFirst("course-v1:".count).split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        org = String(parts[0])
        number = String(parts[1])
        run = String(parts[2])
    }
}

/// Learner and course as one key: jobs sharing it run one at a time, in creation order.
public enum SerialKey {
    public static func enrollment(email: String, courseID: String) -> String {
        "\(normalizedEmail(email))|\(courseID)"
    }
}

/// Emails compared and stored as the stores send them, trimmed and lower-cased.
public func normalizedEmail(_ email: String) -> String {
    email.trimmingWhitespace.lowercased()
}
