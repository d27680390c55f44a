import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// `registrar serve` with a WooCommerce store and a CyberSource profile against the sandbox, for the reports.
final class ReportsSetup: Sendable {
    let dir: TemporaryDirectory
    let sandbox: RunningSandbox
    let serve: ServeProcess
    let http = CurlHTTPClient()
    let configPath: String
    let storefront: String
    let finance: String

    init() async throws {
        dir = try TemporaryDirectory()
        sandbox = try await startSandbox()
        configPath = dir.path + "/registrar.yaml"
        try """
            database: \(dir.path)/registrar.sqlite
            server: {host: 127.0.0.1, port: 0}
            openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret}
            woocommerce:
              stores:
                main: {webhook_secret: \(mainSecret), url: \(sandbox.baseURL), consumer_key: ck_sandbox, consumer_secret: cs_sandbox, catch_up: {interval_seconds: 0}}
            catalog:
              - {store: main, product_id: 93, course_id: "\(course2026)", mode: audit}
            cybersource:
              profiles:
                "\(profileID)": {access_key: access-key-1, secret_key: \(profileSecret)}
            jobs: {max_attempts: 2, backoff_base_seconds: 0.05, backoff_cap_seconds: 0.2, poll_interval_seconds: 0.1}
            logging: {level: debug}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        storefront = try PaymentSetup.cli(["tokens", "create", "--name", "shop", "--role", "storefront"], config: configPath)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        finance = try PaymentSetup.cli(["tokens", "create", "--name", "fiona", "--role", "finance_admin"], config: configPath)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        serve = try ServeProcess(configPath: configPath, workingDirectory: dir.path)
    }

    func cli(_ arguments: [String]) async throws -> ProcessResult {
        try await runRegistrar(arguments + ["--config", configPath], workingDirectory: dir.path)
    }

    func store() throws -> any RegistrarStorage { try openStore(dir.path + "/registrar.sqlite") }

    func settle() async throws { try await settleJobs(try store(), serve: serve) }

    func request(_ method: String, _ path: String, token: String?, body: [UInt8]? = nil, contentType: String = "application/json")
        async throws -> (status: Int, json: JSONValue, text: String) {
        var headers: HTTPHeaders = [:]
        if let token { headers.set(name: "Authorization", value: "Bearer \(token)") }
        if body != nil { headers.set(name: "Content-Type", value: contentType) }
        let response = try await http.execute(HTTPRequest(method: method, url: serve.baseURL + path, headers: headers, body: body))
        return (response.status, JSONValue.parse(response.bodyText) ?? .null, response.bodyText)
    }

    /// A WooCommerce order of course 2026 for `email`, as the store sends it.
    func wooOrder(_ id: Int, email: String, quantity: Int = 1, subtotal: String, total: String) async throws {
        let order: SandboxJSON = [
            "id": .int(id), "number": .string(String(id)), "status": "processing", "currency": "USD", "total": .string(total),
            "date_modified_gmt": "2026-12-03T09:00:00",
            "billing": ["email": .string(email)],
            "line_items": [["id": .int(id * 10 + 1), "name": "Demo course 2026", "product_id": 93, "variation_id": 0,
                            "quantity": .int(quantity), "subtotal": .string(subtotal), "total": .string(total), "sku": "", "meta_data": []]],
        ]
        let body = Array(try order.encoded())
        let response = try await http.execute(HTTPRequest(method: "POST", url: "\(serve.baseURL)/webhooks/woocommerce/main", headers: [
            "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": wooSignature(body, secret: mainSecret),
        ], body: body))
        #expect(response.status == 200, "\(response.bodyText)")
    }

    /// A hosted-checkout order of one seat of course 2026, paid by the callback of `transaction`.
    func paidCheckout(_ reference: String, email: String, transaction: String) async throws {
        let created = try await request("POST", "/api/v1/orders", token: storefront, body: Array("""
            {"reference": "\(reference)", "email": "\(email)", "currency": "USD",
             "items": [{"course_id": "\(course2026)", "mode": "audit", "quantity": 1, "unit_price": "49.00"}]}
            """.utf8))
        #expect(created.status == 201, "\(created.text)")
        var fields: [(String, String)] = [
            ("decision", "ACCEPT"), ("reason_code", "100"), ("req_reference_number", reference), ("req_amount", "49.00"),
            ("req_currency", "USD"), ("transaction_id", transaction), ("req_profile_id", profileID), ("req_access_key", "access-key-1"),
            ("req_transaction_uuid", UUID().uuidString), ("req_transaction_type", "sale"), ("req_bill_to_email", email),
            ("auth_amount", "49.00"),
            ("signed_date_time", Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false)
                .timeZone(separator: .omitted)).replacingOccurrences(of: "+0000", with: "Z")),
        ]
        fields.append(("signed_field_names", (fields.map(\.0) + ["signed_field_names"]).joined(separator: ",")))
        fields.append(("signature", secureAcceptanceSign(fields, secret: profileSecret)))
        let paid = try await request("POST", "/callbacks/cybersource", token: nil, body: formEncode(fields),
                                     contentType: "application/x-www-form-urlencoded")
        #expect(paid.status == 200, "\(paid.text)")
    }

    func redeem(_ code: RegistrationCode, email: String) async throws {
        let answer = try await request("POST", "/api/v1/codes/\(code.grouped)/redemptions", token: storefront,
                                       body: Array(#"{"email": "\#(email)"}"#.utf8))
        #expect(answer.status == 201, "\(answer.text)")
    }

    func shutdown() async {
        #expect(serve.stop() == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))")
        http.shutdown()
        await sandbox.stop()
    }
}

@Suite(.serialized) struct ReportsEndToEndTests {
    static let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))

    /// The gateway's report for today, rows as `request_id,merchant_ref_number,currency,amount,transaction_type`.
    static func gatewayReport(_ rows: [String]) -> String {
        "Payment Batch Detail Report,1.0,\(today) to \(today),,,,,,,\r\n"
            + "batch_id,merchant_id,batch_date,request_id,merchant_ref_number,trans_ref_no,payment_method,currency,amount,transaction_type\r\n"
            + rows.map { row in
                let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                return "77,registrar_test,\(today),\(f[0]),\(f[1]),5652882910,Visa,\(f[2]),\(f[3]),\(f[4])\r\n"
            }.joined()
    }

    @Test func theAuditExplainsEveryEnrollmentAndTheReportsGiveTheNumbersByHand() async throws {
        let setup = try await ReportsSetup()
        for name in ["l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "b2b", "ghost"] {
            _ = try await setup.sandbox.addUser(username: name, email: "\(name)@example.com")
        }
        // Paid single seats: two at the store (one with a 9.80 discount), three through the hosted checkout.
        try await setup.wooOrder(9101, email: "l1@example.com", subtotal: "49.00", total: "49.00")
        try await setup.wooOrder(9102, email: "l2@example.com", subtotal: "49.00", total: "39.20")
        try await setup.paidCheckout("R-1", email: "l3@example.com", transaction: "T-1")
        try await setup.paidCheckout("R-2", email: "l8@example.com", transaction: "T-2")
        try await setup.paidCheckout("R-3", email: "l9@example.com", transaction: "T-3")
        // Three seats as codes, two redeemed.
        try await setup.wooOrder(9103, email: "l4@example.com", quantity: 3, subtotal: "147.00", total: "147.00")
        let store = try setup.store()
        let seatCodes = try await store.codes(CodeFilter(source: "order", sourceReference: "main:9103:91031"))
        #expect(seatCodes.count == 3)
        try await setup.redeem(seatCodes[0].code, email: "l5@example.com")
        try await setup.redeem(seatCodes[1].code, email: "l6@example.com")
        // An invoice of two seats at 100.00, 150.00 paid, one code redeemed.
        let invoice = try await setup.cli(["invoices", "create", "--course", course2026, "--seats", "2", "--unit-price", "100.00",
                                           "--currency", "USD", "--company", "Initech", "--contact-email", "ap@initech.example",
                                           "--recipient-email", "hr@initech.example"])
        #expect(invoice.status == 0, "\(invoice.output)")
        #expect(try await setup.cli(["invoices", "pay", "1", "--amount", "150.00", "--reference", "wire-1"]).status == 0)
        let invoiceCodes = try await store.codes(CodeFilter(source: "invoice", sourceReference: "1"))
        try await setup.redeem(try #require(invoiceCodes.first).code, email: "l7@example.com")
        // A contract learner of an SSO contract that has the course as it is.
        #expect(try await setup.cli(["contracts", "create", "Beta Labs", "Beta", "sso", "--create-org", "--key", "BETA"]).status == 0)
        #expect(try await setup.cli(["contracts", "courseware", "1", course2026, "--no-create-runs"]).status == 0)
        try await setup.settle()
        #expect(try await setup.cli(["contracts", "attach", "1", "--email", "b2b@example.com"]).status == 0)
        // Course staff and a learner enrolled in the LMS by hand, not through Registrar.
        try await setup.sandbox.seedEnrollment(SandboxSeedEnrollment(username: "prof", email: "prof@example.com", courseID: course2026, mode: "audit"))
        try await setup.sandbox.seedEnrollment(SandboxSeedEnrollment(username: "direct", email: "direct@example.com", courseID: course2026))
        try await setup.settle()
        // One paid seat whose enroll job fails: the LMS answers 500 to everything until its attempts run out.
        await setup.sandbox.setFaults(failRate: 1.0, kinds: [.serverError])
        try await setup.wooOrder(9104, email: "ghost@example.com", subtotal: "49.00", total: "49.00")
        try await setup.settle()
        await setup.sandbox.setFaults(failRate: 0)
        let failed = try #require(try await store.jobs(JobFilter(state: .failed)).first)
        try "prof@example.com\n# the course team\n".write(toFile: setup.dir.path + "/staff.txt", atomically: true, encoding: .utf8)
        let staffFile = setup.dir.path + "/staff.txt"

        // By hand: 5 paid single seats enrolled (l1, l2, l3, l8, l9), 3 codes (l5, l6, l7), 1 contract learner, 1 staff,
        // 1 unexplained (direct) = 11 active. ghost paid and is not enrolled.
        let audit = try await setup.cli(["reports", "audit", "--course", course2026, "--staff", staffFile, "--json"])
        #expect(audit.status == 0, "\(audit.output)")
        let report = try #require(JSONValue.parse(audit.output), "\(audit.output)")
        #expect(report["equation"] == .string("11 active enrollments = 1 course staff + 5 paid single seats + 3 redeemed codes + 1 contract learners + 0 manually enrolled + 1 unexplained"),
                "\(report)")
        #expect(report["balances"] == .bool(true))
        #expect(report["enrolled_without_payment"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["direct@example.com"])
        let gap = try #require(report["paid_without_enrollment"]?.arrayValue)
        #expect(gap.count == 1 && gap.first?["email"] == .string("ghost@example.com") && gap.first?["job_state"] == .string("failed")
                && gap.first?["job_id"] == .number(Double(failed.id)), "\(gap)")
        #expect(report["refunded_but_enrolled"]?.arrayValue?.isEmpty == true)
        // The newest releases page by number: the same audit, read in pages of 3.
        await setup.sandbox.setEnrollmentsList(pagination: .pageNumber, pageSize: 3)
        let paged = try #require(JSONValue.parse(try await setup.cli(["reports", "audit", "--course", course2026, "--staff", staffFile, "--json"]).output))
        #expect(paged["equation"] == report["equation"] && paged["paid_without_enrollment"] == report["paid_without_enrollment"], "\(paged)")
        await setup.sandbox.setEnrollmentsList(pagination: .cursor, pageSize: 2)
        let table = try await setup.cli(["reports", "audit", "--course", course2026, "--staff", staffFile])
        #expect(table.output.contains("enrolled_without_payment: 1") && table.output.contains("direct@example.com"), "\(table.output)")

        // Seats: 6 paid single seats (ghost's too: it was paid) + 5 codes standing = 11.
        let seats = try #require(JSONValue.parse(try await setup.cli(["reports", "seats", "--course", course2026, "--json"]).output))
        #expect(seats["paid_single_seats"] == .number(6) && seats["codes_generated"]?["multi_seat"] == .number(3)
                && seats["codes_generated"]?["invoice"] == .number(2) && seats["codes_generated"]?["contract"] == .number(0), "\(seats)")
        #expect(seats["codes_redeemed"] == .number(3) && seats["codes_unredeemed"] == .number(2) && seats["codes_void"] == .number(0))
        #expect(seats["seats_sold"] == .number(11) && seats["seats_sold_without_staff"] == .number(11))

        // Revenue: 6 × 49.00 single, 147.00 multi, 200.00 billed, 150.00 paid, 9.80 discount: net 294 + 147 − 9.80 + 150.
        let revenue = try await setup.cli(["reports", "revenue", "--course", course2026, "--csv"])
        #expect(revenue.output == "course_id,currency,single_seat_gross,multi_seat_gross,invoices_billed,invoices_paid,discounts,refunds,net\r\n"
                + "\(course2026),USD,294.00,147.00,200.00,150.00,9.80,0.00,581.20\r\n", "\(revenue.output)")

        // The gateway's report: T-1 matches, T-2 settled 59.00, T-9 is not Registrar's, T-3 is missing, C-1 refunds R-1.
        let gateway = Self.gatewayReport(["T-1,R-1,USD,49.00,ics_bill", "T-2,R-2,USD,59.00,ics_bill", "T-9,R-9,USD,25.00,ics_bill",
                                          "C-1,R-1,USD,-49.00,ics_credit"])
        let file = setup.dir.path + "/batch.csv"
        try gateway.write(toFile: file, atomically: true, encoding: .utf8)
        let look = try #require(JSONValue.parse(try await setup.cli(["reports", "reconcile", "--cybersource", file, "--json"]).output))
        func requests(_ list: String, _ json: JSONValue) -> [String] { json[list]?.arrayValue?.compactMap { $0["request_id"]?.stringValue } ?? [] }
        #expect(requests("matched", look) == ["T-1"] && requests("amount_mismatch", look) == ["T-2"] && requests("in_gateway_only", look) == ["T-9"]
                && requests("in_registrar_only", look) == ["T-3"] && requests("refund_not_recorded", look) == ["C-1"], "\(look)")
        #expect(await setup.sandbox.ledger().filter { $0.action == .unenroll }.isEmpty, "a reconciliation without --apply-refunds changes nothing")
        let applied = try #require(JSONValue.parse(try await setup.cli(["reports", "reconcile", "--cybersource", file, "--apply-refunds", "--json"]).output))
        #expect(applied["refunds_applied"] == .number(1), "\(applied)")
        try await setup.settle()
        #expect(summary(await setup.sandbox.ledger().filter { $0.action == .unenroll }) == ["unenroll l3 \(course2026)"])
        let again = try #require(JSONValue.parse(try await setup.cli(["reports", "reconcile", "--cybersource", file, "--apply-refunds", "--json"]).output))
        #expect(again["refunds_applied"] == .number(0) && requests("refund_not_recorded", again).isEmpty && requests("matched", again) == ["T-1", "C-1"],
                "\(again)")
        try await setup.settle()
        #expect(await setup.sandbox.ledger().filter { $0.action == .unenroll }.count == 1, "applying the same file again changes nothing")

        // A partial refund recorded by hand: for the revenue report only; l8 stays.
        let partial = try await setup.cli(["orders", "refund", "R-2", "--amount", "10.00", "--reference", "G-7"])
        #expect(partial.status == 0 && partial.output.contains("refund recorded: 10.00 USD on order R-2"), "\(partial.output)")
        let twice = try await setup.cli(["orders", "refund", "R-2", "--amount", "10.00", "--reference", "G-7"])
        #expect(twice.status == 0 && twice.output.contains("already recorded"), "\(twice.output)")
        let shown = try await setup.cli(["orders", "show", "R-2"])
        #expect(shown.output.contains("10.00 USD  G-7  (gateway)"), "\(shown.output)")
        let tooMuch = try await setup.cli(["orders", "refund", "R-2", "--amount", "40.00"])
        #expect(tooMuch.status != 0 && tooMuch.output.contains("more than the 39.00 USD"), "\(tooMuch.output)")
        #expect(try await setup.cli(["orders", "refund", "R-404", "--amount", "1.00"]).output.contains("no order R-404"))
        let after = try await setup.cli(["reports", "revenue", "--course", course2026, "--csv"])
        #expect(after.output.hasSuffix("\(course2026),USD,294.00,147.00,200.00,150.00,9.80,59.00,522.20\r\n"), "\(after.output)")
        let audited = try #require(JSONValue.parse(try await setup.cli(["reports", "audit", "--course", course2026, "--staff", staffFile, "--json"]).output))
        #expect(audited["equation"] == .string("10 active enrollments = 1 course staff + 4 paid single seats + 3 redeemed codes + 1 contract learners + 0 manually enrolled + 1 unexplained"),
                "\(audited)")
        #expect(audited["paid_without_enrollment"]?.arrayValue?.count == 1, "the refunded seat is not a fulfilment gap")

        // The same reports over the API, for finance admins only, within a token's scope.
        let seatsAPI = try await setup.request("GET", "/api/v1/reports/seats?course_id=\(course2026)", token: setup.finance)
        #expect(seatsAPI.status == 200 && seatsAPI.json["seats_sold"] == .number(10), "R-1 was refunded: \(seatsAPI.text)")
        let csvAPI = try await setup.request("GET", "/api/v1/reports/revenue?course_id=\(course2026)&format=csv", token: setup.finance)
        #expect(csvAPI.text == after.output)
        let auditAPI = try await setup.request("GET", "/api/v1/reports/audit?course_id=\(course2026)", token: setup.finance)
        #expect(auditAPI.status == 200 && auditAPI.json["active_enrollments"] == .number(10), "\(auditAPI.text)")
        let scoped = try PaymentSetup.cli(["tokens", "create", "--name", "mit", "--role", "finance_admin", "--scope", "course-v1:MITx+"],
                                          config: setup.configPath).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await setup.request("GET", "/api/v1/reports/seats?course_id=\(course2026)", token: scoped).status == 403)
        let filtered = try await setup.request("GET", "/api/v1/reports/revenue", token: scoped)
        #expect(filtered.status == 200 && filtered.json.arrayValue?.isEmpty == true, "\(filtered.text)")
        #expect(try await setup.request("POST", "/api/v1/reports/reconcile", token: scoped, body: Array(gateway.utf8), contentType: "text/csv").status == 403)
        #expect(try await setup.request("GET", "/api/v1/reports/seats?course_id=\(course2026)", token: setup.storefront).status == 403)
        let reconciled = try await setup.request("POST", "/api/v1/reports/reconcile?apply_refunds=true", token: setup.finance,
                                                 body: Array(gateway.utf8), contentType: "text/csv")
        #expect(reconciled.status == 200 && reconciled.json["refunds_applied"] == .number(0), "\(reconciled.text)")
        await setup.shutdown()
    }

    @Test func aBadReportIsRefusedWithItsLineAndColumnAndNothingIsApplied() async throws {
        let setup = try await ReportsSetup()
        _ = try await setup.sandbox.addUser(username: "l1", email: "l1@example.com")
        try await setup.paidCheckout("R-1", email: "l1@example.com", transaction: "T-1")
        try await setup.settle()
        let good = Self.gatewayReport(["T-1,R-1,USD,49.00,ics_bill", "C-1,R-1,USD,-49.00,ics_credit"])
        let cases: [(String, String)] = [
            (String(good.dropLast(30)), "line 4, column 1: 6 fields where the column names give 10"),
            (good.replacingOccurrences(of: "merchant_ref_number", with: "merchant_ref"), "line 2, column 1: no merchant_ref_number column"),
            (good.replacingOccurrences(of: "Visa,USD,49.00", with: "\"Visa,USD,49.00"), "a quoted field is never closed"),
            (good.replacingOccurrences(of: "USD,49.00", with: "USD,1e3"), "line 3, column 9: amount \"1e3\" is not a decimal amount"),
            (good.replacingOccurrences(of: "USD,49.00", with: "USD,\"10,00\""), "line 3, column 9: amount \"10,00\" is not a decimal amount"),
            (good.replacingOccurrences(of: "USD,-49.00,ics_credit", with: "USD,49.00,ics_credit"),
             "line 4, column 9: amount \"49.00\" of an ics_credit must be negative"),
        ]
        for (index, (text, problem)) in cases.enumerated() {
            let file = setup.dir.path + "/bad-\(index).csv"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try await setup.cli(["reports", "reconcile", "--cybersource", file, "--apply-refunds"])
            #expect(result.status == 1 && result.output.contains(problem), "case \(index): \(result.output)")
        }
        #expect(try await setup.store().refunds(courseID: nil).isEmpty, "nothing was applied")
        // Refunds that cannot be applied are listed with their reason; the others are applied.
        let mixed = Self.gatewayReport(["C-1,R-1,EUR,-49.00,ics_credit", "C-2,R-1,USD,-60.00,ics_credit", "C-3,LEGACY-7,USD,-5.00,ics_credit"])
        try mixed.write(toFile: setup.dir.path + "/mixed.csv", atomically: true, encoding: .utf8)
        let listed = try await setup.cli(["reports", "reconcile", "--cybersource", setup.dir.path + "/mixed.csv", "--apply-refunds", "--json"])
        #expect(listed.status == 0, "\(listed.output)")
        let notes = JSONValue.parse(listed.output)?["refund_not_recorded"]?.arrayValue?.compactMap { $0["note"]?.stringValue } ?? []
        #expect(notes.count == 3 && notes[0].contains("paid in USD") && notes[1].contains("more than the 49.00 USD")
                && notes[2].contains("no order LEGACY-7"), "\(notes)")
        #expect(try await setup.store().refunds(courseID: nil).isEmpty)
        try await setup.settle()
        #expect(await setup.sandbox.ledger().filter { $0.action == .unenroll }.isEmpty)
        await setup.shutdown()
    }
}
