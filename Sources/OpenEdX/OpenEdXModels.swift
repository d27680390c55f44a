import RegistrarCore

/// The answer to one Open edX call.
public typealias OpenEdXResult<Value: Sendable> = CallResult<Value>

/// One enrollment as the LMS reports it.
public struct EnrollmentInfo: Sendable, Equatable {
    public var user: String
    public var courseID: String
    public var mode: String?
    public var isActive: Bool

    init?(_ json: JSONValue) {
        guard let user = json["user"]?.stringValue else { return nil }
        guard let course = json["course_details"]?["course_id"]?.stringValue ?? json["course_id"]?.stringValue else { return nil }
        self.user = user
        courseID = course
        mode = json["mode"]?.stringValue
        if case .bool(let active) = json["is_active"] { isActive = active } else { isActive = false }
    }
}

/// Whether a call that may find its work already done did it now or found it done.
public enum Idempotent<Value: Sendable>: Sendable {
    case done(Value)
    case alreadyDone(Value)

    public var value: Value {
        switch self {
        case .done(let value), .alreadyDone(let value): value
        }
    }
}
