import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// Mail over real SMTP (libcurl) into the sandbox's sink, alone and through `serve`.
@Suite(.serialized) struct MailEndToEndTests {
    func sandboxWithSink() async throws -> RunningSandbox {
        var configuration = SandboxConfiguration()
        configuration.port = 0
        configuration.smtpPort = 0
        configuration.logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
        configuration.seed = try SandboxSeed.load(path: fixturePath("woocommerce/sandbox-seed.json"))
        return try await Sandbox.start(configuration)
    }

    @Test func theSMTPClientDeliversIntoTheSinkAndClassifiesFailures() async throws {
        let sandbox = try await sandboxWithSink()
        let port = try #require(sandbox.smtpPort)
        let message = MailMessage(from: "Registrar <no-reply@school.edu>", to: "buyer@example.com", subject: "Codes",
                                  text: "Zoë's codes\n.leading dot\n", messageID: "registrar-job-1@school.edu")
        let bytes = try message.rendered(date: Date())
        let client = CurlSMTPClient(settings: SMTPSettings(url: "smtp://127.0.0.1:\(port)", requireTLS: false,
                                                           username: "registrar", password: "pw", timeout: .seconds(10)))
        let sent = await client.send(from: message.fromAddress, to: ["buyer@example.com"], message: bytes)
        if case .failure(let error) = sent { Issue.record("not sent: \(error)") }
        let mail = sandbox.mail()
        #expect(mail.count == 1)
        #expect(mail.first?.from == "no-reply@school.edu" && mail.first?.to == ["buyer@example.com"])
        #expect(mail.first?.data == String(decoding: bytes, as: UTF8.self))

        // STARTTLS required, and the sink offers none: refused before anything is sent, not retried.
        let strict = CurlSMTPClient(settings: SMTPSettings(url: "smtp://127.0.0.1:\(port)", requireTLS: true, timeout: .seconds(10)))
        guard case .failure(let refused) = await strict.send(from: "a@b.c", to: ["x@y.z"], message: bytes) else {
            Issue.record("sent without TLS although TLS was required")
            return
        }
        #expect(!refused.isTransient, "\(refused)")
        #expect(sandbox.mail().count == 1)

        // Nobody listening: try again later.
        let closed = CurlSMTPClient(settings: SMTPSettings(url: "smtp://127.0.0.1:9", requireTLS: false, timeout: .seconds(5)))
        guard case .failure(let down) = await closed.send(from: "a@b.c", to: ["x@y.z"], message: bytes) else {
            Issue.record("sent to a closed port")
            return
        }
        #expect(down.isTransient, "\(down)")
        await sandbox.stop()
    }

    @Test func aBuyersCodesAreMailedWithTheirRedeemLinks() async throws {
        let sandbox = try await sandboxWithSink()
        let dir = try TemporaryDirectory()
        let config = dir.path + "/registrar.yaml"
        try """
            database: \(dir.path)/registrar.sqlite
            server: {host: 127.0.0.1, port: 0, public_url: "https://registrar.school.edu"}
            openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret}
            woocommerce:
              stores:
                main: {webhook_secret: \(mainSecret)}
            catalog:
              - {store: main, product_id: 93, course_id: "\(course2026)", mode: audit}
            mail: {smtp_url: "smtp://127.0.0.1:\(try #require(sandbox.smtpPort))", smtp_tls: optional, from: "School <no-reply@school.edu>"}
            jobs: {backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        var order = try paidOrder(8200, learner: 7, modified: "2026-12-03T09:00:00").encoded()
        order = Data(String(decoding: order, as: UTF8.self).replacingOccurrences(of: #""quantity":1"#, with: #""quantity":3"#).utf8)
        let body = [UInt8](order)
        let response = try await http.execute(HTTPRequest(method: "POST", url: serve.baseURL + "/webhooks/woocommerce/main", headers: [
            "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": wooSignature(body, secret: mainSecret),
        ], body: body))
        #expect(response.status == 200, "\(response.bodyText)")
        #expect(try await waitUntil(timeout: .seconds(20)) { !sandbox.mail().isEmpty }, "\(serve.log.suffix(2000))")
        let mail = try #require(sandbox.mail().first)
        #expect(mail.to == ["learner7@example.com"] && mail.from == "no-reply@school.edu")
        let parts = mail.data.components(separatedBy: "\r\n\r\n")
        let text = String(decoding: Data(base64Encoded: parts.dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")) ?? Data(), as: UTF8.self)
        let store = try openStore(dir.path + "/registrar.sqlite")
        let codes = try await store.codes(CodeFilter(source: "order", sourceReference: "main:8200:82001"))
        #expect(codes.count == 3)
        for code in codes {
            #expect(text.contains("\(code.code.grouped)   https://registrar.school.edu/redeem?code=\(code.code.grouped)"), "\(text)")
        }
        #expect(mail.data.contains("Message-ID: <registrar-job-"))
        #expect(try await waitUntil { try await store.jobs(JobFilter(kind: .mail)).first?.state == .succeeded })
        #expect(serve.stop() == 0)
        await sandbox.stop()
    }

    @Test func anInvoiceOfTwentyFiveSeatsMailsItsCodesCSV() async throws {
        let sandbox = try await sandboxWithSink()
        let dir = try TemporaryDirectory()
        let config = dir.path + "/registrar.yaml"
        try """
            database: \(dir.path)/registrar.sqlite
            server: {host: 127.0.0.1, port: 0, public_url: "https://registrar.school.edu"}
            openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret}
            mail: {smtp_url: "smtp://127.0.0.1:\(try #require(sandbox.smtpPort))", smtp_tls: optional}
            jobs: {backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func token(_ name: String, _ role: String, _ extra: [String] = []) async throws -> String {
            let made = try await runRegistrar(["tokens", "create", "--name", name, "--role", role, "--config", config] + extra,
                                              workingDirectory: dir.path)
            return try #require(made.output.split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init), "\(made.output)")
        }
        let sales = try await token("sales", "sales_admin")
        let finance = try await token("finance", "finance_admin")
        let mitOnly = try await token("mit", "sales_admin", ["--scope", "course-v1:MITx+"])
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        func call(_ method: String, _ path: String, _ token: String, _ body: String? = nil) async throws -> HTTPResponse {
            try await http.execute(HTTPRequest(method: method, url: serve.baseURL + path,
                                               headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                               body: body.map { Array($0.utf8) } ?? []))
        }
        let invoiceJSON = #"{"course_id": "course-v1:edX+DemoX+2026", "mode": "verified", "seats": 25, "unit_price": "40.00", "currency": "USD", "company_name": "Acme, Inc.", "contact_email": "buyer@acme.example", "recipient_name": "Tess", "recipient_email": "training@acme.example", "po_number": "PO-7"}"#
        #expect(try await call("POST", "/api/v1/invoices", finance, invoiceJSON).status == 403)
        #expect(try await call("POST", "/api/v1/invoices", mitOnly, invoiceJSON).status == 403)
        let created = try await call("POST", "/api/v1/invoices", sales, invoiceJSON)
        #expect(created.status == 201, "\(created.bodyText)")
        let id = try #require(JSONValue.parse(created.bodyText)?["id"]?.stringValue)
        #expect(try await waitUntil(timeout: .seconds(20)) { !sandbox.mail().isEmpty }, "\(serve.log.suffix(2000))")
        let mail = try #require(sandbox.mail().first)
        #expect(mail.to == ["training@acme.example"])
        #expect(mail.data.contains("Content-Disposition: attachment; filename=\"invoice-\(id)-codes.csv\""))
        // The attachment: the last base64 part before the closing boundary.
        let parts = mail.data.components(separatedBy: "--=_registrar_")
        let attachment = try #require(parts.first { $0.contains("filename=\"invoice-\(id)-codes.csv\"") })
        let base64 = attachment.components(separatedBy: "\r\n\r\n").dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")
        let csv = String(decoding: Data(base64Encoded: base64) ?? Data(), as: UTF8.self)
        let rows = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.count == 26, "\(csv.prefix(400))")
        #expect(rows.dropFirst().allSatisfy { $0.contains("https://registrar.school.edu/redeem?code=") && $0.contains(#""Acme, Inc.""#) })

        let download = try await call("GET", "/api/v1/invoices/\(id)/codes.csv", finance)
        #expect(download.status == 200 && download.bodyText.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 26)
        #expect(try await call("GET", "/api/v1/invoices/\(id)", mitOnly).status == 403)
        let paid = try await call("POST", "/api/v1/invoices/\(id)/transactions", sales, #"{"kind": "payment", "amount": "1000.00", "reference": "wire 7"}"#)
        #expect(JSONValue.parse(paid.bodyText)?["status"]?.stringValue == "paid", "\(paid.bodyText)")
        let void = try await call("POST", "/api/v1/invoices/\(id)/void", sales)
        #expect(JSONValue.parse(void.bodyText)?["codes_voided"] == .number(25))
        #expect(try await call("POST", "/api/v1/invoices/\(id)/transactions", sales, #"{"kind": "refund", "amount": "1.00"}"#).status == 409)
        let listed = try await runRegistrar(["codes", "list", "--invoice", id, "--state", "void", "--json", "--config", config],
                                            workingDirectory: dir.path)
        #expect(JSONValue.parse(listed.output)?.arrayValue?.count == 25)
        #expect(serve.stop() == 0)
        await sandbox.stop()
    }
}
