import Foundation

/// Studio's course_runs API (`/api/v1/course_runs/…`): reruns and schedule updates.
extension SandboxState {
    func getCourseRun(_ key: String) -> Reply {
        guard let course = store.courses[key] else { return .detail(.notFound, "Not found.") }
        return .ok(courseRunJSON(course))
    }

    /// `POST /api/v1/course_runs/{source}/rerun/`: synchronous, 201 with the new run.
    func rerun(source: String, body: SandboxJSON) -> Reply {
        guard let sourceRun = store.courses[source], let parts = CourseKey.parts(source) else {
            return .detail(.notFound, "Not found.")
        }
        var errors: [String: SandboxJSON] = [:]
        var run = ""
        switch body["run"] {
        case nil, .null?: errors["run"] = ["This field is required."]
        case .string(let text)? where text.trimmingCharacters(in: .whitespaces).isEmpty:
            errors["run"] = ["This field may not be blank."]
        case .string(let text)?: run = text.trimmingCharacters(in: .whitespaces)
        default: errors["run"] = ["Not a valid string."]
        }
        if !run.isEmpty, !CourseKey.isValidPart(Substring(run)) {
            errors["run"] = .array([.string("Invalid key supplied. Ensure there are no special characters in the Course Run.")])
        }
        let schedule = Self.parseSchedule(body["schedule"], partial: false)
        if case .failure(let scheduleErrors) = schedule { errors["schedule"] = scheduleErrors.json }
        let pacing = body["pacing_type"].flatMap { $0.isNull ? nil : $0.pythonDescription }
        if let pacing, !["instructor_paced", "self_paced"].contains(pacing) {
            errors["pacing_type"] = .array([.string("\"\(pacing)\" is not a valid choice.")])
        }
        guard errors.isEmpty, case .success(let dates) = schedule else {
            return .json(.badRequest, .object(errors))
        }

        let newID = "course-v1:\(parts.org)+\(parts.number)+\(run)"
        guard store.courses[newID] == nil else {
            return .json(.badRequest, ["run": .array([.string("Course run \(newID) already exists")])])
        }
        // A rerun copies the source's modes and capacity; enrollment dates are cleared.
        let newRun = CourseRun(
            id: newID,
            title: body["title"]?.stringValue ?? sourceRun.title,
            modes: sourceRun.modes,
            enrollmentOpen: true,
            maxEnrollments: sourceRun.maxEnrollments,
            pacingType: pacing ?? sourceRun.pacingType,
            start: dates["start"] ?? nil,
            end: dates["end"] ?? nil,
            enrollmentStart: nil,
            enrollmentEnd: nil
        )
        store.courses[newID] = newRun
        store.ledger.append(.rerun, user: nil, email: nil, courseID: newID, mode: nil, sourceCourseID: source)
        return .json(.created, courseRunJSON(newRun))
    }

    /// `POST /api/v1/course_runs/clone/`: the source copied under another key, organization included; 400 when
    /// the destination exists, a key is invalid or the source is absent.
    func clone(_ body: SandboxJSON) -> Reply {
        var errors: [String: SandboxJSON] = [:]
        for field in ["source_course_id", "destination_course_id"] {
            switch body[field] {
            case nil, .null?: errors[field] = ["This field is required."]
            case .string(let text)? where CourseKey.parts(text) == nil: errors[field] = .array([.string("Invalid course key: \(text)")])
            case .string?: break
            default: errors[field] = ["Not a valid string."]
            }
        }
        guard errors.isEmpty, let source = body["source_course_id"]?.stringValue, let destination = body["destination_course_id"]?.stringValue
        else { return .json(.badRequest, .object(errors)) }
        guard let sourceRun = store.courses[source] else {
            return .json(.badRequest, ["source_course_id": .array([.string("Course \(source) does not exist.")])])
        }
        guard store.courses[destination] == nil else {
            return .json(.badRequest, ["destination_course_id": .array([.string("Course run \(destination) already exists.")])])
        }
        store.courses[destination] = CourseRun(id: destination, title: sourceRun.title, modes: sourceRun.modes, enrollmentOpen: true,
                                               maxEnrollments: sourceRun.maxEnrollments, pacingType: sourceRun.pacingType, start: sourceRun.start,
                                               end: sourceRun.end, enrollmentStart: nil, enrollmentEnd: nil)
        store.ledger.append(.clone, user: nil, email: nil, courseID: destination, mode: nil, sourceCourseID: source)
        return .json(.created, ["message": "Course cloned successfully."])
    }

    /// `PATCH /api/v1/course_runs/{key}/` (partial) and `PUT` (whole: a schedule needs start and end): schedule,
    /// title, pacing.
    func patchCourseRun(_ key: String, body: SandboxJSON, partial: Bool = true) -> Reply {
        guard var course = store.courses[key] else { return .detail(.notFound, "Not found.") }
        var errors: [String: SandboxJSON] = [:]
        let schedule = Self.parseSchedule(body["schedule"], partial: partial)
        if case .failure(let scheduleErrors) = schedule { errors["schedule"] = scheduleErrors.json }
        let pacing = body["pacing_type"].flatMap { $0.isNull ? nil : $0.pythonDescription }
        if let pacing, !["instructor_paced", "self_paced"].contains(pacing) {
            errors["pacing_type"] = .array([.string("\"\(pacing)\" is not a valid choice.")])
        }
        guard errors.isEmpty, case .success(let dates) = schedule else {
            return .json(.badRequest, .object(errors))
        }
        if let start = dates["start"] { course.start = start }
        if let end = dates["end"] { course.end = end }
        if let start = dates["enrollment_start"] { course.enrollmentStart = start }
        if let end = dates["enrollment_end"] { course.enrollmentEnd = end }
        if let title = body["title"]?.stringValue { course.title = title }
        if let pacing { course.pacingType = pacing }
        store.courses[key] = course
        return .ok(courseRunJSON(course))
    }

    private func courseRunJSON(_ course: CourseRun) -> SandboxJSON {
        [
            "id": .string(course.id),
            "title": .string(course.title),
            "pacing_type": .string(course.pacingType),
            "schedule": [
                "start": .optional(course.start.map(Timestamp.format)),
                "end": .optional(course.end.map(Timestamp.format)),
                "enrollment_start": .optional(course.enrollmentStart.map(Timestamp.format)),
                "enrollment_end": .optional(course.enrollmentEnd.map(Timestamp.format)),
            ],
            "team": [],
            "images": ["card_image": nil],
        ]
    }

    struct ScheduleErrors: Error {
        var json: SandboxJSON
    }

    /// The schedule fields present, each a date or an explicit null (clears it). On create,
    /// `start` and `end` are required when `schedule` is sent at all.
    private static func parseSchedule(_ value: SandboxJSON?, partial: Bool) -> Result<[String: Date?], ScheduleErrors> {
        guard let value, !value.isNull else { return .success([:]) }
        guard let fields = value.objectValue else {
            return .failure(ScheduleErrors(json: ["non_field_errors": ["Invalid data. Expected a dictionary, but got str."]]))
        }
        var dates: [String: Date?] = [:]
        var errors: [String: SandboxJSON] = [:]
        for name in ["start", "end", "enrollment_start", "enrollment_end"] {
            switch fields[name] {
            case nil:
                if !partial && (name == "start" || name == "end") { errors[name] = ["This field is required."] }
            case .null?:
                if name == "start" { errors[name] = ["This field may not be null."] } else { dates[name] = .some(nil) }
            case .string(let text)?:
                if let date = Timestamp.parse(text) {
                    dates[name] = date
                } else {
                    errors[name] = ["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]
                }
            default:
                errors[name] = ["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]
            }
        }
        return errors.isEmpty ? .success(dates) : .failure(ScheduleErrors(json: .object(errors)))
    }
}
