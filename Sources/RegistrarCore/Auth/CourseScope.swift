/// A token's course scope: course id prefixes (`course-v1:MITx+`, `course-v1:edX+DemoX+`) that limit what it
/// sees and may do. Lists are filtered by it; a single object out of it is refused (403).
public enum CourseScope {
    /// nil covers every course; an empty list covers none.
    public static func covers(_ prefixes: [String]?, courseID: String) -> Bool {
        guard let prefixes else { return true }
        return prefixes.contains { courseID.hasPrefix($0) }
    }

    /// A prefix as an operator typed it: it must begin a course key, so a typo cannot widen a scope to everything.
    public static func problem(_ prefix: String) -> String? {
        guard prefix.hasPrefix("course-v1:"), prefix.count > "course-v1:".count else {
            return "scope \"\(prefix)\" must begin a course key, like course-v1:MITx+ or course-v1:edX+DemoX+"
        }
        guard !prefix.contains(where: { $0.isWhitespace || $0.isNewline }) else { return "scope \"\(prefix)\" holds a space" }
        return nil
    }
}
