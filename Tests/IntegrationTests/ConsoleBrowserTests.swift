import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// The web console in headless Chromium over WebDriver, against `registrar serve` and the sandbox: sign in, find
/// the failed job a sandbox failure made, fix the sandbox, bulk-replay it with the preview first, see it succeed
/// with the audit trail naming the token; and over plain HTTP, what the browser never shows: a viewer refused
/// every change, a form without its CSRF token refused, a session that ends at sign-out.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let missingCourse = "course-v1:edX+Later+2027"

    /// A console session over HTTP: its cookie and its CSRF token (read from a page, as a browser would have it).
    struct Session {
        let cookie: String
        let csrf: String
    }

    static func signIn(_ http: CurlHTTPClient, _ base: String, token: String) async throws -> Session {
        let signedIn = try await http.execute(HTTPRequest(method: "POST", url: base + "/console/signin",
                                                          headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                          body: Array(FormEncoding.encode([("token", token)]).utf8)))
        #expect(signedIn.status == 303 && signedIn.header("location") == "/console")
        let setCookie = try #require(signedIn.header("set-cookie"))
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/console"))
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = try await http.execute(HTTPRequest(url: base + "/console", headers: ["Cookie": cookie])).bodyText
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return Session(cookie: cookie, csrf: String(page[start...].prefix { $0 != "\"" }))
    }

    static func post(_ http: CurlHTTPClient, _ url: String, _ session: Session, _ fields: [(String, String)]) async throws -> Int {
        try await http.execute(HTTPRequest(method: "POST", url: url, headers: [
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": session.cookie,
        ], body: Array(FormEncoding.encode(fields).utf8))).status
    }

    @Test func anOperatorFindsAFailureAndBulkReplaysItAndAViewerChangesNothing() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: RedeemBrowserTests.chromedriver)
                     && FileManager.default.isExecutableFile(atPath: RedeemBrowserTests.chromium),
                     "the browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)")
        let dir = try TemporaryDirectory()
        let sandbox = try await startSandbox()
        let config = dir.path + "/registrar.yaml"
        try """
            database: \(dir.path)/registrar.sqlite
            server: {host: 127.0.0.1, port: 0}
            openedx: {lms_url: "\(sandbox.baseURL)", studio_url: "\(sandbox.baseURL)", client_secret: sandbox-secret}
            jobs: {backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func cli(_ arguments: [String]) throws -> String {
            try PaymentSetup.cli(arguments, config: config).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let alice = try cli(["tokens", "create", "--name", "alice", "--role", "ops"])
        let victor = try cli(["tokens", "create", "--name", "victor", "--role", "viewer"])
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let store = try openStore(dir.path + "/registrar.sqlite")
        // The LMS does not know the course yet: the enroll fails for good, with the LMS's message.
        _ = try cli(["enroll", "--email", "zoe.muller@example.com", "--course", Self.missingCourse, "--mode", "audit"])
        #expect(try await waitUntil(timeout: .seconds(30)) { try await store.jobs(JobFilter(state: .failed)).count == 1 })
        let failedID = try #require(try await store.jobs(JobFilter(state: .failed)).first?.id)

        let http = CurlHTTPClient()
        let browser = try await WebDriverSession(driver: RedeemBrowserTests.chromedriver, browser: RedeemBrowserTests.chromium,
                                                 windowSize: "1280,860")
        let screenshots = ProcessInfo.processInfo.environment["REGISTRAR_SCREENSHOTS"]
        func shoot(_ name: String) async throws {
            if let screenshots { try await browser.screenshot().write(to: URL(fileURLWithPath: screenshots + "/\(name).png")) }
        }
        do {
            // Signed out: every page leads to sign-in.
            try await browser.open(serve.baseURL + "/console/failures")
            #expect(try await browser.title() == "Sign in · Registrar")
            try await browser.type("#token", alice)
            try await browser.click("#signin")
            #expect(try await waitUntil(timeout: .seconds(10)) { try await browser.title() == "Overview · Registrar" })
            #expect(try await browser.source().contains("alice (ops)"))
            try await shoot("console-overview")

            // The inbox: the failure, grouped by kind and error.
            try await browser.open(serve.baseURL + "/console/failures")
            let inbox = try await browser.source()
            #expect(inbox.contains("enroll") && inbox.contains("job \(failedID)"), "\(inbox)")
            try await shoot("console-failures")
            try await browser.open(serve.baseURL + "/console/jobs/\(failedID)")
            #expect(try await browser.source().contains(Self.missingCourse))
            try await shoot("console-job")

            // Fixed at the source; then everything matching is replayed, the list shown first.
            try await sandbox.addCourse(id: Self.missingCourse)
            try await browser.open(serve.baseURL + "/console/failures")
            try await browser.click("a[href^=\"/console/bulk?action=replay\"]")
            #expect(try await waitUntil(timeout: .seconds(10)) { try await browser.title() == "Bulk replay: preview · Registrar" })
            #expect(try await browser.source().contains("will replay"))
            #expect(try await store.job(id: failedID)?.state == .failed, "the preview changes nothing")
            try await browser.click("form[action=\"/console/bulk\"] button")
            #expect(try await waitUntil(timeout: .seconds(10)) { try await browser.title() == "Bulk replay: done · Registrar" })
            #expect(try await browser.source().contains("1 replayed, 0 refused"))
            #expect(try await waitUntil(timeout: .seconds(30)) { try await store.job(id: failedID)?.state == .succeeded })
            #expect(await sandbox.ledger().map(\.courseID) == [Self.missingCourse])
            try await browser.open(serve.baseURL + "/console/jobs/\(failedID)")
            let detail = try await browser.source()
            #expect(detail.contains("console:alice") && detail.contains("succeeded"), "\(detail)")

            // Signed out, the session is over in the browser and on the server.
            try await browser.click("form[action=\"/console/signout\"] button")
            #expect(try await waitUntil(timeout: .seconds(10)) { try await browser.title() == "Sign in · Registrar" })
            try await browser.open(serve.baseURL + "/console")
            #expect(try await browser.title() == "Sign in · Registrar")
        } catch {
            await browser.close()
            http.shutdown()
            await sandbox.stop()
            throw error
        }
        await browser.close()

        // A viewer sees the same pages and is refused every change, whatever its form says.
        let viewer = try await Self.signIn(http, serve.baseURL, token: victor)
        #expect(try await http.execute(HTTPRequest(url: serve.baseURL + "/console/jobs/\(failedID)", headers: ["Cookie": viewer.cookie])).status == 200)
        for (path, fields) in [("/console/jobs/\(failedID)/replay", [("csrf", viewer.csrf)]), ("/console/jobs/\(failedID)/cancel", [("csrf", viewer.csrf)]),
                               ("/console/bulk", [("csrf", viewer.csrf), ("action", "replay"), ("ids", "\(failedID)")]),
                               ("/console/orders/R-1/review", [("csrf", viewer.csrf), ("decision", "accept")])] {
            #expect(try await Self.post(http, serve.baseURL + path, viewer, fields) == 403, "\(path)")
        }
        // An operator's form without its CSRF token, or with another session's, is refused too.
        let ops = try await Self.signIn(http, serve.baseURL, token: alice)
        #expect(try await Self.post(http, serve.baseURL + "/console/jobs/\(failedID)/replay", ops, []) == 403)
        #expect(try await Self.post(http, serve.baseURL + "/console/jobs/\(failedID)/replay", ops, [("csrf", viewer.csrf)]) == 403)
        let actions = try #require(try await store.jobDetail(id: failedID)).actions
        #expect(actions.map(\.actor) == ["console:alice"], "only the operator's bulk replay is in the audit trail")
        // A storefront token never signs in; a wrong token neither.
        let storefront = try cli(["tokens", "create", "--name", "shop", "--role", "storefront"])
        for token in [storefront, "rgt_nonsense"] {
            let refused = try await http.execute(HTTPRequest(method: "POST", url: serve.baseURL + "/console/signin",
                                                             headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                             body: Array(FormEncoding.encode([("token", token)]).utf8)))
            #expect(refused.status == 401 && refused.header("set-cookie") == nil)
        }
        // Sign-out ends the session on the server: the old cookie opens nothing.
        #expect(try await Self.post(http, serve.baseURL + "/console/signout", ops, [("csrf", ops.csrf)]) == 303)
        let after = try await http.execute(HTTPRequest(url: serve.baseURL + "/console", headers: ["Cookie": ops.cookie]))
        #expect(after.status == 303 && after.header("location") == "/console/signin")
        http.shutdown()
        await sandbox.stop()
        #expect(serve.stop() == 0)
    }
}
