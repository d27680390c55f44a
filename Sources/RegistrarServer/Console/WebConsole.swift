import Foundation
import Hummingbird
import Logging
import NIOCore
import RegistrarCore
import RegistrarStore

/// `/console`: the operators' web console. Server-rendered pages that work without JavaScript; sign-in with
/// an API token makes a server-side session (an `HttpOnly`, `SameSite=Strict` cookie); every form carries the
/// session's CSRF token; what a role may see and do is checked here for every request (`ConsoleAccess`), and
/// every change is audited under `console:<token name>`.
struct WebConsole: Sendable {
    let store: any RegistrarStorage
    let config: RegistrarConfig
    let clock: any WallClock
    let metrics: RegistrarMetrics
    /// How long the Open edX pacer holds every call after a 429, when this process runs workers.
    let openEdXPause: (@Sendable () -> Duration?)?
    let logger: Logger

    var secureCookie: Bool { config.server.publicURL?.lowercased().hasPrefix("https://") ?? false }
    var idle: TimeInterval { TimeInterval(config.console.idleMinutes * 60) }

    func register(_ router: Router<RegistrarRequestContext>, maxBody: Int) {
        let formLimit = min(maxBody, 262_144)
        router.get("/console/style.css") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ConsoleStyle.css)))
        }
        router.get("/console/signin") { request, _ -> Response in
            if await session(request) != nil { return ConsoleHTML.redirect("/console") }
            return signInPage(status: .ok, message: nil)
        }
        router.post("/console/signin") { request, _ -> Response in
            guard let fields = await form(request, limit: formLimit) else { return signInPage(status: .badRequest, message: "The form could not be read.") }
            let token = (fields["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                guard !token.isEmpty, let started = try await store.startSession(bearer: token) else {
                    logger.notice("console sign-in refused")
                    return signInPage(status: .unauthorized, message: "That token is not a live token of a role that may use the console.")
                }
                logger.info("console sign-in", metadata: ["token": "\(started.session.token.name)"])
                return ConsoleHTML.redirect("/console", cookie: ConsoleSessionRules.cookie(value: started.id, secure: secureCookie))
            } catch {
                return unavailable(error, session: nil)
            }
        }
        router.post("/console/signout") { request, _ -> Response in
            await act(request, nil, limit: formLimit) { session, _ in
                if let id = ConsoleSessionRules.sessionID(cookieHeader: request.headers[.cookie]) { try await store.endSession(id: id) }
                logger.info("console sign-out", metadata: ["token": "\(session.token.name)"])
                return ConsoleHTML.redirect("/console/signin", cookie: ConsoleSessionRules.clearingCookie(secure: secureCookie))
            }
        }
        ConsoleJobPages(console: self).register(router, formLimit: formLimit)
        ConsoleCommercePages(console: self).register(router, formLimit: formLimit)
    }

    // MARK: The checks every page and action passes

    /// The live session the request's cookie names, if any.
    func session(_ request: Request) async -> ConsoleSession? {
        guard let id = ConsoleSessionRules.sessionID(cookieHeader: request.headers[.cookie]) else { return nil }
        return try? await store.session(id: id, idle: idle)
    }

    /// A page: signed in (else to the sign-in page), and a role that may see it (else 403).
    func view(_ request: Request, _ page: ConsoleAccess.Page,
              _ render: (ConsoleSession) async throws -> Response) async -> Response {
        guard let session = await session(request) else { return ConsoleHTML.redirect("/console/signin") }
        guard ConsoleAccess.maySee(page, role: session.token.role) else {
            return forbidden(session, "Your role (\(session.token.role.rawValue)) does not see \(ConsoleHTML.label(page)).")
        }
        do { return try await render(session) } catch { return unavailable(error, session: session) }
    }

    /// A change: signed in, the form's CSRF token the session's, and a role that may do it (nil: any role).
    func act(_ request: Request, _ action: ConsoleAccess.Action?, limit: Int,
             _ perform: (ConsoleSession, [String: String]) async throws -> Response) async -> Response {
        guard let session = await session(request) else { return ConsoleHTML.redirect("/console/signin") }
        guard let fields = await form(request, limit: limit),
              ConsoleSessionRules.csrfMatches(fields["csrf"], expected: session.csrf) else {
            logger.notice("console form refused: no or wrong CSRF token", metadata: ["token": "\(session.token.name)"])
            return forbidden(session, "This form did not come from your console session (its CSRF token is missing or wrong). Open the page again and resubmit.")
        }
        if let action, !ConsoleAccess.mayAct(action, role: session.token.role) {
            return forbidden(session, "Your role (\(session.token.role.rawValue)) may look but not change anything here.")
        }
        do { return try await perform(session, fields) } catch { return unavailable(error, session: session) }
    }

    /// A form body as a dictionary (the first value of each name).
    func form(_ request: Request, limit: Int) async -> [String: String]? {
        guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: limit),
              let pairs = FormEncoding.decode(String(decoding: body, as: UTF8.self)) else { return nil }
        return formFields(pairs)
    }

    func formFields(_ pairs: [(String, String)]) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in pairs where fields[name] == nil { fields[name] = value }
        return fields
    }

    func forbidden(_ session: ConsoleSession, _ message: String) -> Response {
        ConsoleHTML.response(.forbidden, ConsoleHTML.page("Not allowed", session: session, current: nil,
                                                          body: "<p class=\"refused\">\(ConsoleHTML.text(message))</p>"))
    }

    func unavailable(_ error: any Error, session: ConsoleSession?) -> Response {
        logger.error("console page failed", metadata: ["error": "\(error)"])
        return ConsoleHTML.response(.serviceUnavailable, ConsoleHTML.page("Database unavailable", session: session, current: nil,
                                                                          body: "<p class=\"refused\">The database could not be read: \(ConsoleHTML.text("\(error)"))</p>"))
    }

    func signInPage(status: HTTPResponse.Status, message: String?) -> Response {
        ConsoleHTML.response(status, ConsoleHTML.page("Sign in", session: nil, current: nil, body: """
            \(message.map { "<p class=\"refused\" role=\"alert\">\(ConsoleHTML.text($0))</p>" } ?? "")
            <form method="post" action="/console/signin" class="search">
            <label>API token (role ops, viewer, sales_admin or finance_admin)
            <input type="password" name="token" id="token" autocomplete="off" required></label>
            <button id="signin">Sign in</button></form>
            <p class="empty">Make one with <code>registrar tokens create --name YOU --role viewer</code>. A session ends after
            \(config.console.idleMinutes) minutes unused, or when you sign out.</p>
            """))
    }
}
