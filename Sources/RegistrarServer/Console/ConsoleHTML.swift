import Foundation
import Hummingbird
import RegistrarCore
import RegistrarStore

/// The console's page frame and the few pieces every page is built from. Everything shown that came from a
/// database row or a request is escaped here (`text`), so a learner's name or an error message can never
/// become markup.
enum ConsoleHTML {
    static func text(_ value: String?) -> String { HTMLEscaping.escaped(value ?? "") }

    static func link(_ href: String, _ label: String) -> String { "<a href=\"\(text(href))\">\(text(label))</a>" }

    static func time(_ date: Date?) -> String { date.map { "<time>\(Timestamp.format($0))</time>" } ?? "-" }

    /// "3 min", "2 h": how long ago or how old.
    static func age(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<90: "\(Int(seconds.rounded())) s"
        case ..<5400: "\(Int((seconds / 60).rounded())) min"
        case ..<172_800: "\(Int((seconds / 3600).rounded())) h"
        default: "\(Int((seconds / 86400).rounded())) d"
        }
    }

    /// A table; cells are HTML already (escape with `text`).
    static func table(_ headers: [String], _ rows: [[String]], empty: String = "Nothing here.") -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(text(empty))</p>" }
        let head = headers.map { "<th>\(text($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<div class=\"scroll\"><table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table></div>"
    }

    /// A POST form with the session's CSRF token: every change the console makes goes through one.
    static func form(_ action: String, csrf: String, fields: [(String, String)] = [], button: String, danger: Bool = false) -> String {
        let hidden = ([("csrf", csrf)] + fields).map { "<input type=\"hidden\" name=\"\(text($0.0))\" value=\"\(text($0.1))\">" }.joined()
        return "<form method=\"post\" action=\"\(text(action))\" class=\"inline\">\(hidden)<button\(danger ? " class=\"danger\"" : "")>\(text(button))</button></form>"
    }

    static func badge(_ state: String) -> String { "<span class=\"badge \(text(state))\">\(text(state))</span>" }

    /// The frame: title, navigation for the session's role, who is signed in, and a sign-out form.
    static func page(_ title: String, session: ConsoleSession?, current: ConsoleAccess.Page?, body: String, notice: String? = nil) -> String {
        var nav = ""
        if let session {
            let links = ConsoleAccess.pages(for: session.token.role).map { page in
                let href = page == .overview ? "/console" : "/console/\(page.rawValue)"
                return "<a href=\"\(href)\"\(page == current ? " aria-current=\"page\"" : "")>\(label(page))</a>"
            }.joined(separator: " ")
            nav = """
                <nav>\(links)</nav>
                <div class="who">\(text(session.token.name)) (\(text(session.token.role.rawValue)))
                \(form("/console/signout", csrf: session.csrf, button: "Sign out"))</div>
                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(text(title)) · Registrar</title><link rel="stylesheet" href="/console/style.css"></head>
            <body><header><a class="brand" href="/console">Registrar</a>\(nav)</header>
            <main><h1>\(text(title))</h1>\(notice.map { "<p class=\"notice\" role=\"status\">\(text($0))</p>" } ?? "")
            \(body)
            </main></body></html>
            """
    }

    static func label(_ page: ConsoleAccess.Page) -> String {
        switch page {
        case .overview: "Overview"
        case .failures: "Failures"
        case .jobs: "Jobs"
        case .bulk: "Bulk"
        case .deliveries: "Deliveries"
        case .orders: "Orders"
        case .codes: "Codes"
        case .invoices: "Invoices"
        case .contracts: "Contracts"
        case .audit: "Audit trail"
        }
    }

    static func response(_ status: HTTPResponse.Status, _ html: String, cookie: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // Nothing from elsewhere, no script, no framing: the console's pages are its own.
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
        headers[.init("Referrer-Policy")!] = "same-origin"
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// 303 to `location`: after a form, the browser GETs the result (a reload does not post again).
    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    static func csv(_ text: String, filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
