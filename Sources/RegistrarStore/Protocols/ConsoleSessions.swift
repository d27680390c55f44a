import Foundation

/// Sessions of the web console, signed in with an API token. Only a hash of each session id is kept.
public protocol ConsoleSessions: Sendable {
    /// Starts a session for the live token `bearer` is: returns the session id (the cookie's value, the only
    /// time it exists outside the browser) and the session; nil when `bearer` is no live token of a role that
    /// may sign in (nothing is written then). The session belongs to that token, not its name: a token revoked and
    /// made again under the same name does not bring its sessions back.
    func startSession(bearer: String) async throws -> (id: String, session: ConsoleSession)?
    /// The session `id` names while it lives: not ended, not idle longer than `idle`, not older than
    /// `ConsoleSessionRules.longest`, its token not revoked. A use a minute or more after the last recorded one
    /// is recorded.
    func session(id: String, idle: TimeInterval) async throws -> ConsoleSession?
    /// Signs out: the session ends at once.
    func endSession(id: String) async throws
}

/// The audit trail: every operator action, from the CLI, the API or the console, newest first.
public protocol AuditTrail: Sendable {
    /// Actions with an id below `before` (keyset paging), at most `limit`.
    func auditTrail(before: Int64?, limit: Int) async throws -> [OperatorAction]
}
