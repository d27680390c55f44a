import Foundation

/// The console's session decisions: when one has expired, when its last use is worth writing down, the cookie
/// that carries it, and the CSRF check every form passes.
public enum ConsoleSessionRules {
    public static let cookieName = "registrar_console"
    /// A session lives at most this long however busy it is; then its operator signs in again.
    public static let longest: TimeInterval = 12 * 3600
    /// How stale the recorded last use may get before a request writes it again: a page view is a read, not a
    /// write through intake's one writer, except about once a minute.
    public static let touchEvery: TimeInterval = 60

    public static func expired(createdAt: Date, lastSeenAt: Date, now: Date, idle: TimeInterval) -> Bool {
        now.timeIntervalSince(lastSeenAt) > idle || now.timeIntervalSince(createdAt) > longest
    }

    public static func shouldTouch(lastSeenAt: Date, now: Date) -> Bool {
        now.timeIntervalSince(lastSeenAt) >= touchEvery
    }

    /// `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's form sends it), `Secure` when the
    /// console is reached over https, scoped to `/console`.
    public static func cookie(value: String, secure: Bool) -> String {
        "\(cookieName)=\(value); Path=/console; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The cookie that ends the session in the browser too.
    public static func clearingCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The session id in a `Cookie` header, if any.
    public static func sessionID(cookieHeader: String?) -> String? {
        guard let cookieHeader else { return nil }
        for part in cookieHeader.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookieName + "=") {
                let value = String(pair.dropFirst(cookieName.count + 1))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    /// Whether a form's CSRF token is the session's, compared in constant time.
    public static func csrfMatches(_ sent: String?, expected: String) -> Bool {
        guard let sent else { return false }
        let a = Array(sent.utf8), b = Array(expected.utf8)
        guard a.count == b.count, !b.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
