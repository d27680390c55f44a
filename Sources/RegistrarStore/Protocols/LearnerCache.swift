/// Open edX usernames by email, so repeated jobs for a learner skip the account lookup.
public protocol LearnerCache: Sendable {
    func cachedUsername(email: String) async throws -> String?
    func cacheUsername(_ username: String, email: String) async throws
    /// For a cached username the LMS no longer knows.
    func forgetUsername(email: String) async throws
}
