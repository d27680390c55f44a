import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// The `/redeem` page in a real browser: headless Chromium driven over WebDriver (chromedriver), as a learner
/// uses it (the page has no JavaScript): open the link from a mail, type an email, submit, read the result.
@Suite(.serialized) struct RedeemBrowserTests {
    static let chromedriver = "/usr/bin/chromedriver"
    static let chromium = "/usr/bin/chromium"

    @Test func aLearnerRedeemsACodeInChromium() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromedriver) && FileManager.default.isExecutableFile(atPath: Self.chromium),
                     "the browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)")
        let dir = try TemporaryDirectory()
        let database = dir.path + "/registrar.sqlite"
        let seed = try SQLiteStore(path: database, options: StoreOptions(jobs: JobsConfig()))
        let code = try #require(try await seed.createCodes(NewCodes(count: 1, courseID: "course-v1:MITx+6.002x+2026", mode: "audit",
                                                                    source: "invoice", sourceReference: "1")).first).code
        try seed.close()
        // The sandbox's Studio gives the run's display name for the pages.
        let sandbox = try await startSandbox()
        try await sandbox.addCourse(SandboxSeed.Course(id: "course-v1:MITx+6.002x+2026", title: "Circuits and Electronics", modes: ["audit"]))
        let config = dir.path + "/registrar.yaml"
        try """
            database: \(database)
            server: {host: 127.0.0.1, port: 0}
            openedx: {lms_url: "\(sandbox.baseURL)", studio_url: "\(sandbox.baseURL)", client_secret: sandbox-secret}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let browser = try await WebDriverSession(driver: Self.chromedriver, browser: Self.chromium)
        // Set it to keep the pages as PNG files (the README's screenshot is made so).
        let screenshots = ProcessInfo.processInfo.environment["REGISTRAR_SCREENSHOTS"]
        do {
            // The link a buyer's mail gives: the code is filled in already.
            try await browser.open(serve.baseURL + "/redeem?code=\(code.grouped)")
            #expect(try await browser.title() == "Redeem a code")
            #expect(try await browser.property("#code", "value") == code.grouped)
            // Labels name the fields (what a screen reader announces).
            #expect(try await browser.property("label[for=email]", "textContent")?.isEmpty == false)
            try await browser.type("#email", "kim.ito@example.com")
            if let screenshots { try await browser.screenshot().write(to: URL(fileURLWithPath: screenshots + "/redeem-form.png")) }
            try await browser.click("button[type=submit]")
            #expect(try await waitUntil(timeout: .seconds(10)) { try await browser.title() == "You have a seat" })
            let page = try await browser.source()
            // The run's title comes from Studio; a page never waits more than 1.5 s for it (once, under the whole suite
            // in CI, it showed the key), and the title, once read, serves the pages after it.
            #expect(page.contains(" is yours. Sign in at \(sandbox.baseURL) with kim.ito@example.com"), "\(page)")
            let png = try await browser.screenshot()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
            if let screenshots { try png.write(to: URL(fileURLWithPath: screenshots + "/redeem-result.png")) }

            // Asked again by the same learner: the same seat, named by the course's title.
            #expect(try await waitUntil(timeout: .seconds(30)) {
                try await browser.open(serve.baseURL + "/redeem?code=\(code.grouped)")
                try await browser.type("#email", "kim.ito@example.com")
                try await browser.click("button[type=submit]")
                return try await browser.source().contains("Your seat in Circuits and Electronics is yours. Sign in at \(sandbox.baseURL) with kim.ito@example.com")
            })

            // The same code again, by someone else: words a learner understands, and nothing changes.
            try await browser.open(serve.baseURL + "/redeem?code=\(code.grouped)")
            try await browser.type("#email", "bo@example.com")
            try await browser.click("button[type=submit]")
            #expect(try await waitUntil(timeout: .seconds(10)) { try await browser.source().contains("already been used by someone else") })

            // Submitted empty: the browser's own check stops it (required fields), and the page says so without a round trip.
            try await browser.open(serve.baseURL + "/redeem")
            try await browser.click("button[type=submit]")
            #expect(try await browser.title() == "Redeem a code")
        } catch {
            await browser.close()
            await sandbox.stop()
            throw error
        }
        await browser.close()
        await sandbox.stop()
        #expect(serve.stop() == 0)
        let store = try openStore(database)
        #expect(try await store.code(code)?.redemptions.map(\.email) == ["kim.ito@example.com"])
    }
}
