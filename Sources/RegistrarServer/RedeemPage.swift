import Foundation
import Hummingbird
import RegistrarCore
import RegistrarStore

/// `GET /redeem` and `POST /redeem`: the learner's own page. Plain server-rendered HTML that works without
/// JavaScript, labelled fields, errors in words a learner understands; no token, the same failure budget per
/// client address as the API. Everything a visitor typed is escaped before it is shown back.
struct RedeemPage: Sendable {
    let desk: RedemptionDesk
    let lmsURL: String
    let policy: UnknownLearnerPolicy
    let titles: CourseTitles?

    /// What the learner reads for a course: its display name when Open edX gives one soon enough, else its key.
    func courseName(_ courseID: String) async -> String {
        await titles?.title(of: courseID) ?? courseID
    }

    func register(_ router: Router<RegistrarRequestContext>, maxBody: Int,
                  client: @escaping @Sendable (Request, RegistrarRequestContext) -> String) {
        router.get("/redeem") { request, _ -> Response in
            Self.html(.ok, form(code: request.uri.queryParameters.get("code") ?? "", email: "", message: nil))
        }
        router.post("/redeem") { request, context -> Response in
            let client = client(request, context)
            guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: maxBody),
                  let fields = FormEncoding.decode(String(decoding: body, as: UTF8.self)) else {
                return Self.html(.badRequest, form(code: "", email: "", message: .error("The form could not be read. Please fill it in again.")))
            }
            let code = fields.first { $0.0 == "code" }?.1 ?? ""
            let email = fields.first { $0.0 == "email" }?.1 ?? ""
            return await submit(code: code, email: email, client: client)
        }
    }

    enum Message {
        case error(String)
    }

    func submit(code: String, email: String, client: String) async -> Response {
        let trimmedCode = code.trimmingCharacters(in: .whitespaces)
        let trimmedEmail = email.trimmingCharacters(in: .whitespaces)
        guard !trimmedCode.isEmpty, !trimmedEmail.isEmpty else {
            let missing = trimmedCode.isEmpty && trimmedEmail.isEmpty ? "your code and your email"
                : trimmedCode.isEmpty ? "your code" : "your email"
            return Self.html(.badRequest, form(code: code, email: email, message: .error("Please enter \(missing).")))
        }
        switch await desk.attempt(code: trimmedCode, email: trimmedEmail, client: client) {
        case .limited:
            var response = Self.html(.tooManyRequests, form(code: code, email: email, message: .error(RedemptionWording.tooManyAttempts)))
            response.headers[.retryAfter] = "60"
            return response
        case .invalidEmail:
            return Self.html(.badRequest, form(code: code, email: email,
                                               message: .error("That email address does not look right. Please check it.")))
        case .malformedCode(let problem):
            return Self.html(.badRequest, form(code: code, email: email, message: .error("That is not a code: \(problem.message).")))
        case .unavailable:
            return Self.html(.serviceUnavailable, form(code: code, email: email, message: .error(RedemptionWording.unavailable)))
        case .done(let outcome, let normalized):
            switch outcome {
            case .redeemed(let record, _):
                return Self.html(.created, result(title: "You have a seat",
                                                  text: RedemptionWording.success(course: await courseName(record.courseID), email: normalized,
                                                                                  lmsURL: lmsURL, policy: policy)))
            case .alreadyRedeemed(let record, _):
                return Self.html(.ok, result(title: "Already redeemed",
                                             text: RedemptionWording.alreadyRedeemed + " "
                                                 + RedemptionWording.success(course: await courseName(record.courseID), email: normalized,
                                                                             lmsURL: lmsURL, policy: policy)))
            case .paymentRequired(let record, let order):
                guard let order, let checkout = desk.signer.checkoutJSON(order), let endpoint = checkout["endpoint"]?.stringValue,
                      case .object(let fields)? = checkout["fields"] else {
                    return Self.html(.init(code: 402), form(code: code, email: email, message: .error(RedemptionWording.paymentRequired)))
                }
                return Self.html(.init(code: 402), payment(course: await courseName(record.courseID), order: order, endpoint: endpoint,
                                                           fields: fields.compactMapValues(\.stringValue)),
                                 formTarget: endpoint)
            case .refused(let refusal, _):
                return Self.html(.conflict, form(code: code, email: email, message: .error(RedemptionWording.refusal(refusal))))
            case .unknownCode:
                return Self.html(.notFound, form(code: code, email: email, message: .error(RedemptionWording.unknown)))
            }
        }
    }

    func form(code: String, email: String, message: Message?) -> String {
        var alert = ""
        if case .error(let text)? = message {
            alert = """
                <div class="error" role="alert" id="problem"><p>\(HTMLEscaping.escaped(text))</p></div>
                """
        }
        let described = message == nil ? "" : #" aria-describedby="problem""#
        return Self.page(title: "Redeem a code", body: """
            <h1>Redeem a code</h1>
            <p>Enter the code you were given and your email address. You will be enrolled in the course the code is for.</p>
            \(alert)
            <form method="post" action="/redeem">
              <p><label for="code">Code</label><br>
                 <input id="code" name="code" type="text" value="\(HTMLEscaping.escaped(code))" required autocomplete="off"
                        autocapitalize="characters" spellcheck="false" maxlength="40" placeholder="7KQ2-M9XD-4HTR"\(described)></p>
              <p><label for="email">Email address</label><br>
                 <input id="email" name="email" type="email" value="\(HTMLEscaping.escaped(email))" required autocomplete="email"
                        maxlength="254"\(described)></p>
              <p><button type="submit">Redeem</button></p>
            </form>
            """)
    }

    /// A priced code: the seat is held while the learner pays at the hosted checkout, reached by a plain form
    /// post of the signed fields (no script).
    func payment(course: String, order: Order, endpoint: String, fields: [String: String]) -> String {
        let hidden = fields.sorted { $0.key < $1.key }.map { name, value in
            #"<input type="hidden" name="\#(HTMLEscaping.escaped(name))" value="\#(HTMLEscaping.escaped(value))">"#
        }.joined(separator: "\n  ")
        let amount = "\(order.total) \(order.currency)"
        return Self.page(title: "Pay for your seat", body: """
            <h1>Pay for your seat</h1>
            <div role="status"><p>\(HTMLEscaping.escaped(RedemptionWording.payment(course: course, amount: amount, email: order.email)))</p></div>
            <form method="post" action="\(HTMLEscaping.escaped(endpoint))">
              \(hidden)
              <p><button type="submit">Pay \(HTMLEscaping.escaped(amount))</button></p>
            </form>
            <p>Order \(HTMLEscaping.escaped(order.reference)).</p>
            """)
    }

    func result(title: String, text: String) -> String {
        Self.page(title: title, body: """
            <h1>\(HTMLEscaping.escaped(title))</h1>
            <div role="status"><p>\(HTMLEscaping.escaped(text))</p></div>
            <p><a href="\(HTMLEscaping.escaped(lmsURL))">Go to \(HTMLEscaping.escaped(lmsURL))</a></p>
            """)
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLEscaping.escaped(title))</title>
        <style>
        body { font: 1.05rem/1.5 system-ui, sans-serif; max-width: 34rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
        input { font: inherit; padding: .4rem; width: 100%; box-sizing: border-box; }
        button { font: inherit; padding: .5rem 1.5rem; }
        .error { border-left: .3rem solid #b00020; padding: .2rem .8rem; background: #fdecee; }
        :focus { outline: 3px solid #1a5fb4; outline-offset: 2px; }
        </style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// - Parameter formTarget: the one other place a form on the page may post to (the hosted checkout).
    static func html(_ status: HTTPResponse.Status, _ text: String, formTarget: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // The page needs nothing from elsewhere; nothing else may run in it or frame it.
        let formAction = ["'self'", formTarget.flatMap(Self.origin)].compactMap { $0 }.joined(separator: " ")
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action \(formAction); frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `https://host[:port]` of a URL, for a CSP source; nil for anything without a scheme and host.
    static func origin(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host,
              ["http", "https"].contains(scheme), !host.isEmpty else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}
