import CurlHTTP
import Foundation
import RegistrarCore
import TestSupport

/// A headless Chromium driven over WebDriver (W3C) by its chromedriver, started on a free loopback port. Only
/// what the tests do: open a page, find by CSS, type, click, read the title, source and properties, screenshot.
public final class WebDriverSession: @unchecked Sendable {
    private let driver: Process
    private let http = CurlHTTPClient()
    private let base: String
    private var sessionID = ""

    public init(driver path: String, browser: String, windowSize: String = "820,720") async throws {
        let port = try closedLoopbackPort()
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: path)
        driver.arguments = ["--port=\(port)"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        base = "http://127.0.0.1:\(port)"
        let ready = try await waitUntil(timeout: .seconds(20)) { [http, base] in
            (try? await http.execute(HTTPRequest(method: "GET", url: base + "/status")))?.status == 200
        }
        guard ready else {
            stopDriver()
            throw WebDriverError("chromedriver did not answer on \(base) within 20 s")
        }
        let session = try await call("POST", "/session", .object(["capabilities": .object(["alwaysMatch": .object([
            "browserName": .string("chrome"),
            "goog:chromeOptions": .object(["binary": .string(browser), "args": .array([
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=\(windowSize)",
            ].map(JSONValue.string))]),
        ])])]))
        guard let id = session["sessionId"]?.stringValue else {
            stopDriver()
            throw WebDriverError("no session: \(session)")
        }
        sessionID = id
    }

    public func open(_ url: String) async throws { _ = try await call("POST", "/session/\(sessionID)/url", .object(["url": .string(url)])) }
    public func title() async throws -> String? { try await call("GET", "/session/\(sessionID)/title").stringValue }
    public func source() async throws -> String { try await call("GET", "/session/\(sessionID)/source").stringValue ?? "" }

    public func property(_ css: String, _ name: String) async throws -> String? {
        try await call("GET", "/session/\(sessionID)/element/\(try await element(css))/property/\(name)").stringValue
    }

    public func type(_ css: String, _ text: String) async throws {
        _ = try await call("POST", "/session/\(sessionID)/element/\(try await element(css))/value", .object(["text": .string(text)]))
    }

    public func click(_ css: String) async throws {
        _ = try await call("POST", "/session/\(sessionID)/element/\(try await element(css))/click")
    }

    /// The viewport as PNG bytes.
    public func screenshot() async throws -> Data {
        let text = try await call("GET", "/session/\(sessionID)/screenshot").stringValue ?? ""
        guard let png = Data(base64Encoded: text) else { throw WebDriverError("the screenshot is not base64") }
        return png
    }

    /// Ends the session (the browser quits) and stops chromedriver. Call it on every path: a browser left
    /// behind outlives the test run.
    public func close() async {
        if !sessionID.isEmpty { _ = try? await call("DELETE", "/session/\(sessionID)") }
        stopDriver()
        http.shutdown()
    }

    private func element(_ css: String) async throws -> String {
        let found = try await call("POST", "/session/\(sessionID)/element", .object(["using": .string("css selector"), "value": .string(css)]))
        guard let id = found["element-6066-11e4-a52e-4f735466cecf"]?.stringValue else { throw WebDriverError("no element \(css): \(found)") }
        return id
    }

    private func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let response = try await http.execute(HTTPRequest(
            method: method, url: base + path, headers: ["Content-Type": "application/json"],
            body: body.map { Array($0.jsonText.utf8) } ?? (method == "POST" ? Array("{}".utf8) : [])))
        let value = JSONValue.parse(response.bodyText)?["value"] ?? .null
        if response.status >= 400 { throw WebDriverError("\(method) \(path): \(response.status) \(value["message"]?.stringValue ?? response.bodyText)") }
        return value
    }

    /// SIGKILL: chromedriver started from the test runner does not act on SIGTERM (seen: it lingered, and the
    /// wait hung). The browser itself has quit with the session.
    private func stopDriver() {
        guard driver.isRunning else { return }
        kill(driver.processIdentifier, SIGKILL)
        driver.waitUntilExit()
    }
}

public struct WebDriverError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
