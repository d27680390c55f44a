import Foundation

/// A signed-in console user: the token they signed in with, as it is now (a revoked token ends its sessions,
/// a changed role applies at once), and the CSRF token every form of theirs carries.
public struct ConsoleSession: Sendable, Equatable {
    public var token: APIToken
    public var csrf: String
    public var createdAt: Date
    public var lastSeenAt: Date

    public init(token: APIToken, csrf: String, createdAt: Date, lastSeenAt: Date) {
        self.token = token
        self.csrf = csrf
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }

    /// Who the audit trail names for what this session does.
    public var actor: String { "console:" + token.name }
}
