import CurlHTTP
import Foundation
import RegistrarCore

/// OAuth2 client credentials against the LMS, with the JWT cached until shortly before it expires.
/// Concurrent callers share one refresh (single flight); a 401 from an API invalidates exactly the token
/// that was refused, so a burst of 401s causes one refresh, not one each.
actor AccessTokenProvider {
    struct Token: Sendable {
        var value: String
        var expires: ContinuousClock.Instant
    }

    enum TokenError: Error, Sendable {
        case rejected(CallOutcome, status: Int?)
    }

    private let settings: OpenEdXSettings
    private let http: CurlHTTPClient
    private let pacer: any RequestPacing
    private var current: Token?
    private var refreshing: Task<Token, any Error>?
    private(set) var refreshes = 0
    private let observe: @Sendable (_ status: Int?) -> Void

    /// - Parameter pacer: the API calls' pacer. A token request takes a slot too: when the LMS is down every
    ///   attempt fails at its token, and unpaced, workers with a backlog went through thousands of failing
    ///   attempts a second (a log line and a commit each) and would meet the LMS with them as it came back.
    init(settings: OpenEdXSettings, http: CurlHTTPClient, pacer: any RequestPacing,
         observe: @escaping @Sendable (_ status: Int?) -> Void) {
        self.settings = settings
        self.http = http
        self.pacer = pacer
        self.observe = observe
    }

    func token() async throws -> String {
        if let current, ContinuousClock.now < current.expires { return current.value }
        if let refreshing { return try await refreshing.value.value }
        let task = Task { try await self.fetch() }
        refreshing = task
        defer { refreshing = nil }
        do {
            let token = try await task.value
            current = token
            refreshes += 1
            return token.value
        } catch {
            current = nil
            throw error
        }
    }

    /// Forgets `token` if it is still the cached one.
    func invalidate(_ token: String) {
        if current?.value == token { current = nil }
    }

    private func fetch() async throws -> Token {
        guard let secret = settings.clientSecret else {
            throw TokenError.rejected(.permanent(message: "openedx.client_secret is not set (nor REGISTRAR_OPENEDX_CLIENT_SECRET)"),
                                      status: nil)
        }
        let body = FormEncoding.encode([("grant_type", "client_credentials"), ("client_id", settings.clientID),
                                        ("client_secret", secret.value), ("token_type", "jwt")])
        let request = HTTPRequest(method: "POST", url: settings.lmsURL + "/oauth2/access_token",
                                  headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                                  body: Array(body.utf8))
        do {
            try await pacer.acquire()
        } catch {
            throw TokenError.rejected(.transient(message: "cancelled while waiting for a request slot", retryAfter: nil),
                                      status: nil)
        }
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch let error as HTTPClientError {
            observe(nil)
            throw TokenError.rejected(.transportFailure("token request failed: \(error)"), status: nil)
        }
        observe(response.status)
        guard response.status == 200 else {
            var outcome = CallOutcome.classify(status: response.status, body: response.bodyText, retryAfter: response.retryAfter)
            // A refused client is a configuration problem, not a token to refresh.
            if case .unauthorized(let message) = outcome {
                outcome = .permanent(message: "the LMS refused client \(settings.clientID) (\(message)): check openedx.client_id and client_secret")
            }
            throw TokenError.rejected(outcome, status: response.status)
        }
        guard let json = JSONValue.parse(response.bodyText), let value = json["access_token"]?.stringValue, !value.isEmpty else {
            throw TokenError.rejected(.transient(message: "token answer had no access_token", retryAfter: nil), status: 200)
        }
        let lifetime = Double(json["expires_in"]?.stringValue ?? "") ?? 3600
        // Refresh ahead of expiry (the WordPress plugin uses 300 s) but never more than a tenth of the lifetime,
        // so short-lived tokens are still reused.
        let margin = min(300, lifetime / 10)
        return Token(value: value, expires: .now + .milliseconds(Int64(max(0, lifetime - margin) * 1000)))
    }
}
