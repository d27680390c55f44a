import Crypto
import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Sandbox
import TestSupport
import Testing

let profileID = "0000001"
let profileSecret = "cs-profile-secret"

/// Secure Acceptance signing, written here independently of Registrar's own implementation.
func secureAcceptanceSign(_ fields: [(String, String)], secret: String) -> String {
    let names = fields.first { $0.0 == "signed_field_names" }!.1.split(separator: ",").map(String.init)
    let lookup = Dictionary(fields, uniquingKeysWith: { first, _ in first })
    let data = names.map { "\($0)=\(lookup[$0] ?? "")" }.joined(separator: ",")
    return Data(HMAC<SHA256>.authenticationCode(for: Data(data.utf8), using: SymmetricKey(data: Data(secret.utf8))))
        .base64EncodedString()
}

func formEncode(_ fields: [(String, String)]) -> [UInt8] {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return Array(fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&").utf8)
}

/// `registrar serve` with a CyberSource profile, against a sandbox LMS, plus API tokens made with the CLI.
final class PaymentSetup: Sendable {
    let dir: TemporaryDirectory
    let sandbox: RunningSandbox
    let serve: ServeProcess
    let http = CurlHTTPClient()
    let configPath: String
    let storefrontToken: String
    let opsToken: String

    init() async throws {
        dir = try TemporaryDirectory()
        sandbox = try await startSandbox()
        configPath = dir.path + "/registrar.yaml"
        try """
            database: \(dir.path)/registrar.sqlite
            server: {host: 127.0.0.1, port: 0}
            openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret}
            cybersource:
              profiles:
                "\(profileID)": {access_key: access-key-1, secret_key: \(profileSecret)}
            jobs: {backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1}
            logging: {level: debug}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        storefrontToken = try Self.cli(["tokens", "create", "--name", "shop", "--role", "storefront"], config: configPath)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        opsToken = try Self.cli(["tokens", "create", "--name", "alice", "--role", "ops"], config: configPath)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        serve = try ServeProcess(configPath: configPath, workingDirectory: dir.path)
    }

    struct CLIFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `registrar` and returns its stdout; a non-zero exit throws with what it wrote to stderr.
    static func cli(_ arguments: [String], config: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: registrarBinary())
        process.arguments = arguments + ["--config", config]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIFailed(description: "registrar \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    func cli(_ arguments: [String]) throws -> String { try Self.cli(arguments, config: configPath) }

    func shutdown() async {
        #expect(serve.stop() == 0)
        http.shutdown()
        await sandbox.stop()
    }

    func request(_ method: String, _ path: String, token: String? = nil, json: String? = nil,
                 form: [UInt8]? = nil) async throws -> (status: Int, json: JSONValue, text: String) {
        var headers: HTTPHeaders = [:]
        if let token { headers.set(name: "Authorization", value: "Bearer \(token)") }
        var body: [UInt8]?
        if let json { headers.set(name: "Content-Type", value: "application/json"); body = Array(json.utf8) }
        if let form { headers.set(name: "Content-Type", value: "application/x-www-form-urlencoded"); body = form }
        let response = try await http.execute(HTTPRequest(method: method, url: serve.baseURL + path, headers: headers, body: body))
        return (response.status, JSONValue.parse(response.bodyText) ?? .null, response.bodyText)
    }

    func createOrder(reference: String, quantity: Int = 1, price: String = "49.00") async throws -> JSONValue {
        let answer = try await request("POST", "/api/v1/orders", token: storefrontToken, json: """
            {"reference": "\(reference)", "email": "Zoe.Muller@example.com", "currency": "usd",
             "items": [{"course_id": "\(demoCourse)", "mode": "verified", "quantity": \(quantity), "unit_price": "\(price)"}]}
            """)
        #expect(answer.status == 201, "order not created: \(answer.text) (token \(storefrontToken.prefix(8))…)")
        return answer.json
    }

    /// An edx-platform-shaped callback for `reference`, signed with the profile secret (or `secret`).
    func callback(reference: String, decision: String = "ACCEPT", amount: String = "49.00", authAmount: String? = nil,
                  currency: String = "usd", transaction: String = "4083708299660176195663", signedAt: Date = Date(),
                  leaveOut: String? = nil, secret: String = profileSecret) -> [UInt8] {
        var fields: [(String, String)] = [
            ("decision", decision), ("reason_code", decision == "ACCEPT" ? "100" : "481"), ("req_reference_number", reference),
            ("req_amount", amount), ("req_currency", currency), ("transaction_id", transaction),
            ("req_profile_id", profileID), ("req_access_key", "access-key-1"),
            ("req_transaction_uuid", "ddd9935b82dd403f9aa4ba6ecf021b1f"), ("req_transaction_type", "sale"), ("req_locale", "en"),
            ("req_bill_to_email", "zoe.muller@example.com"), ("req_card_number", "xxxxxxxxxxxx1111"), ("req_card_type", "001"),
            ("auth_code", "888888"), ("message", "Request was processed successfully."),
            ("signed_date_time", signedAt.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false)
                .timeZone(separator: .omitted)).replacingOccurrences(of: "+0000", with: "Z")),
        ]
        if decision == "ACCEPT" { fields.append(("auth_amount", authAmount ?? amount)) }
        let names = fields.map(\.0).filter { $0 != leaveOut } + ["signed_field_names"]
        fields.append(("signed_field_names", names.joined(separator: ",")))
        fields.append(("signature", secureAcceptanceSign(fields, secret: secret)))
        return formEncode(fields)
    }

    func settle() async throws {
        try await settleJobs(try openStore(dir.path + "/registrar.sqlite"), serve: serve)
    }
}

@Suite(.serialized) struct CyberSourceEndToEndTests {
    @Test func aPaidOrderEndsAsAnEnrollmentAndRepeatsChangeNothing() async throws {
        let setup = try await PaymentSetup()
        let order = try await setup.createOrder(reference: "R-100")
        #expect(order["total"]?.stringValue == "49.00" && order["currency"]?.stringValue == "USD")
        // The signed checkout fields verify with an independent implementation of the algorithm.
        guard case .object(let fieldsJSON)? = order["cybersource"]?["fields"] else { Issue.record("no fields"); return }
        let fields = fieldsJSON.compactMapValues(\.stringValue)
        let ordered = fields["signed_field_names"]!.split(separator: ",").map { (String($0), fields[String($0)]!) }
        #expect(secureAcceptanceSign(ordered + [("signed_field_names", fields["signed_field_names"]!)], secret: profileSecret)
                == fields["signature"])
        #expect(fields["amount"] == "49.00" && fields["reference_number"] == "R-100" && fields["transaction_type"] == "sale")

        let paid = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-100"))
        #expect(paid.status == 200 && paid.json["status"]?.stringValue == "paid", "\(paid.text)")
        try await setup.settle()
        let ledger = await setup.sandbox.ledger()
        #expect(ledger.map { "\($0.action.rawValue) \($0.user ?? "") \($0.courseID) \($0.mode ?? "") \($0.order ?? "")" }
                == ["enroll zoe \(demoCourse) verified R-100"])

        let again = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-100"))
        #expect(again.status == 200 && again.json["status"]?.stringValue == "duplicate_callback")
        let second = try await setup.request("POST", "/callbacks/cybersource",
                                             form: setup.callback(reference: "R-100", transaction: "9999999999999999999999"))
        #expect(second.status == 200 && second.json["status"]?.stringValue == "duplicate_payment")
        try await setup.settle()
        #expect(await setup.sandbox.ledger().count == 1, "nothing may be enrolled twice")
        let attention = try setup.cli(["orders", "list", "--attention", "--json"])
        let flagged = JSONValue.parse(attention)?.arrayValue ?? []
        #expect(flagged.map { $0["attention"]?.stringValue } == ["duplicate_payment"])

        let shown = try await setup.request("GET", "/api/v1/orders/R-100", token: setup.storefrontToken)
        #expect(shown.json["status"]?.stringValue == "paid" && shown.json["payments"]?.arrayValue?.count == 2)
        #expect(shown.json["jobs"]?.arrayValue?.first?["state"]?.stringValue == "succeeded")
        await setup.shutdown()
    }

    @Test func badCallbacksAreRefusedRecordedAndFulfilNothing() async throws {
        let setup = try await PaymentSetup()
        _ = try await setup.createOrder(reference: "R-200")
        let forged = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-200", secret: "guess"))
        #expect(forged.status == 401)
        let cancelForged = try await setup.request("POST", "/callbacks/cybersource",
                                                   form: setup.callback(reference: "R-200", decision: "CANCEL", secret: "guess"))
        #expect(cancelForged.status == 401)
        let unsignedDecision = try await setup.request("POST", "/callbacks/cybersource",
                                                       form: setup.callback(reference: "R-200", leaveOut: "decision"))
        #expect(unsignedDecision.status == 400 && unsignedDecision.text.contains("decision"))
        let unsignedAuth = try await setup.request("POST", "/callbacks/cybersource",
                                                   form: setup.callback(reference: "R-200", leaveOut: "auth_amount"))
        #expect(unsignedAuth.status == 400 && unsignedAuth.text.contains("auth_amount"))
        let stale = try await setup.request("POST", "/callbacks/cybersource",
                                            form: setup.callback(reference: "R-200", signedAt: Date().addingTimeInterval(-3600)))
        #expect(stale.status == 400)
        let unknown = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-404"))
        #expect(unknown.status == 404)
        let wrongAmount = try await setup.request("POST", "/callbacks/cybersource",
                                                  form: setup.callback(reference: "R-200", amount: "4.90"))
        #expect(wrongAmount.status == 422)
        let partial = try await setup.request("POST", "/callbacks/cybersource",
                                              form: setup.callback(reference: "R-200", authAmount: "40.00", transaction: "2"))
        #expect(partial.status == 422)
        let wrongCurrency = try await setup.request("POST", "/callbacks/cybersource",
                                                    form: setup.callback(reference: "R-200", currency: "eur", transaction: "3"))
        #expect(wrongCurrency.status == 422)
        let order = try await setup.request("GET", "/api/v1/orders/R-200", token: setup.storefrontToken)
        #expect(order.json["status"]?.stringValue == "pending" && order.json["attention"]?.stringValue == "amount_mismatch")
        try await setup.settle()
        #expect(await setup.sandbox.ledger().isEmpty)
        let deliveries = JSONValue.parse(try setup.cli(["deliveries", "list", "--json", "--source", "cybersource"]))?.arrayValue ?? []
        #expect(deliveries.count == 9, "every callback is recorded")
        #expect(!deliveries.contains { $0["reason"]?.stringValue?.contains(profileSecret) == true })
        await setup.shutdown()
    }

    @Test func aReviewedOrderIsEnrolledOnceAnOperatorAcceptsIt() async throws {
        let setup = try await PaymentSetup()
        _ = try await setup.createOrder(reference: "R-300")
        let review = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-300", decision: "REVIEW"))
        #expect(review.status == 200 && review.json["status"]?.stringValue == "review")
        try await setup.settle()
        #expect(await setup.sandbox.ledger().isEmpty)
        #expect(try setup.cli(["orders", "list", "--attention"]).contains("R-300"))
        let reviewed = try setup.cli(["orders", "review", "R-300", "--accept"])
        #expect(reviewed.contains("accepted"), "\(reviewed)")
        try await setup.settle()
        let ledger = await setup.sandbox.ledger()
        let jobs = try setup.cli(["jobs", "list"])
        #expect(ledger.map(\.action) == [.enroll], "ledger \(ledger); jobs \(jobs)")
        await setup.shutdown()
    }

    @Test func aMultiSeatPurchaseEnrollsNobodyAndBecomesCodes() async throws {
        let setup = try await PaymentSetup()
        let order = try await setup.createOrder(reference: "R-400", quantity: 3)
        #expect(order["total"]?.stringValue == "147.00")
        let paid = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-400", amount: "147.00"))
        #expect(paid.status == 200 && paid.json["status"]?.stringValue == "paid")
        // The same callback again makes no more codes.
        _ = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-400", amount: "147.00"))
        try await setup.settle()
        #expect(await setup.sandbox.ledger().isEmpty, "the buyer must not be enrolled once per seat")
        let shown = try await setup.request("GET", "/api/v1/orders/R-400", token: setup.opsToken)
        let item = try #require(shown.json["items"]?.arrayValue?.first)
        #expect(item["fulfilment"]?.stringValue == "codes")
        let codes = item["codes"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
        #expect(codes.count == 3 && Set(codes).count == 3, "\(shown.json)")
        #expect(codes.allSatisfy { if case .success = RegistrationCode.parse($0) { true } else { false } })
        // Its mail was asked for (and fails here: no mail.smtp_url).
        let listed = try setup.cli(["jobs", "list", "--kind", "mail", "--json"])
        #expect(JSONValue.parse(listed)?.arrayValue?.count == 1, "\(listed)")
        await setup.shutdown()
    }

    @Test func theAPIChecksRolesAndTheAdminAPIReplaysWithAnAuditTrail() async throws {
        let setup = try await PaymentSetup()
        let noToken = try await setup.request("POST", "/api/v1/orders", json: "{}")
        #expect(noToken.status == 401)
        let wrongRole = try await setup.request("POST", "/api/v1/orders", token: setup.opsToken, json: "{}")
        #expect(wrongRole.status == 403)
        let badOrder = try await setup.request("POST", "/api/v1/orders", token: setup.storefrontToken,
                                               json: #"{"email": "x@example.com", "currency": "USD", "items": [{"course_id": "nope", "unit_price": "1"}]}"#)
        #expect(badOrder.status == 400 && badOrder.text.contains("items[0].course_id"))
        #expect(try await setup.request("GET", "/api/v1/jobs", token: setup.storefrontToken).status == 403)

        _ = try await setup.createOrder(reference: "R-500")
        _ = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-500"))
        try await setup.settle()
        let jobs = try await setup.request("GET", "/api/v1/jobs?state=succeeded", token: setup.opsToken)
        let id = try #require(jobs.json.arrayValue?.first?["id"]?.stringValue)
        let refused = try await setup.request("POST", "/api/v1/jobs/\(id)/replay", token: setup.opsToken)
        #expect(refused.status == 409 && refused.text.contains("already succeeded"))
        let cancelled = try await setup.request("POST", "/api/v1/jobs/\(id)/cancel", token: setup.opsToken)
        #expect(cancelled.status == 409)
        let bulk = try await setup.request("POST", "/api/v1/jobs/replay?dry_run=true", token: setup.opsToken)
        #expect(bulk.status == 200 && bulk.json["dry_run"] == .bool(true))
        let detail = try await setup.request("GET", "/api/v1/jobs/\(id)", token: setup.opsToken)
        #expect(detail.json["attempt_log"]?.arrayValue?.count == 1)
        let delivery = try await setup.request("GET", "/api/v1/deliveries/\(detail.json["delivery_id"]!.stringValue!)", token: setup.opsToken)
        #expect(delivery.json["verdict"]?.stringValue == "paid" && delivery.json["body"]?.stringValue?.contains("decision=ACCEPT") == true)

        // A failed job replayed through the API is audited under the token's name.
        let unknownCourse = try await setup.request("POST", "/api/v1/orders", token: setup.storefrontToken, json: """
            {"reference": "R-501", "email": "zoe.muller@example.com", "currency": "USD",
             "items": [{"course_id": "course-v1:edX+Nope+1", "unit_price": "49.00"}]}
            """)
        #expect(unknownCourse.status == 201)
        _ = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-501", transaction: "501"))
        try await setup.settle()
        let failed = try await setup.request("GET", "/api/v1/jobs?state=failed", token: setup.opsToken)
        let failedID = try #require(failed.json.arrayValue?.first?["id"]?.stringValue)
        let replayed = try await setup.request("POST", "/api/v1/jobs/\(failedID)/replay", token: setup.opsToken)
        #expect(replayed.status == 200 && replayed.json["applied"]?.arrayValue?.count == 1)
        try await setup.settle()
        let audited = try await setup.request("GET", "/api/v1/jobs/\(failedID)", token: setup.opsToken)
        #expect(audited.json["operator_actions"]?.arrayValue?.first?["actor"]?.stringValue == "api:alice")
        #expect(audited.json["attempt_log"]?.arrayValue?.count == 2)

        #expect(try setup.cli(["tokens", "revoke", "alice"]).contains("revoked"))
        // A running serve remembers a token it found for a second (RecentTokens): refused within it.
        #expect(try await waitUntil(timeout: .seconds(10)) {
            try await setup.request("GET", "/api/v1/jobs", token: setup.opsToken).status == 401
        })
        await setup.shutdown()
    }

    @Test func metricsAreValidPrometheusTextAndMoveWithDeliveries() async throws {
        let setup = try await PaymentSetup()
        _ = try await setup.createOrder(reference: "R-600")
        _ = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-600"))
        _ = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "R-600", secret: "nope"))
        try await setup.settle()
        let metrics = try await setup.request("GET", "/metrics")
        #expect(metrics.status == 200)
        let samples = try parsePrometheus(metrics.text)
        #expect(samples[#"registrar_deliveries_total{source="cybersource",verdict="paid"}"#] == 1)
        #expect(samples[#"registrar_deliveries_total{source="cybersource",verdict="rejected"}"#] == 1)
        #expect(samples[#"registrar_jobs_finished_total{kind="enroll",state="succeeded"}"#] == 1)
        #expect(samples[#"registrar_jobs{state="succeeded"}"#] == 1)
        #expect((samples[#"registrar_outbound_calls_total{endpoint="enrollment",status="2xx",target="openedx"}"#] ?? 0) >= 1)
        #expect(samples["registrar_token_refreshes_total"] == 1)
        #expect(samples.keys.contains { $0.hasPrefix("registrar_attempt_duration_seconds_bucket") })
        #expect(samples.keys.contains { $0.hasPrefix("registrar_group_commit_batch_size") })
        let ready = try await setup.request("GET", "/readyz")
        #expect(ready.status == 200)
        await setup.shutdown()
    }
}

/// A strict reader of the Prometheus text format: every line is a comment or `name{labels} value`; labels are
/// returned sorted so lookups do not depend on the exporter's order.
func parsePrometheus(_ text: String) throws -> [String: Double] {
    struct Malformed: Error { var line: String }
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            throw Malformed(line: String(line))
        }
        var name = String(line[..<space])
        if let open = name.firstIndex(of: "{") {
            guard name.hasSuffix("}") else { throw Malformed(line: String(line)) }
            let labels = name[name.index(after: open)..<name.index(before: name.endIndex)]
                .split(separator: ",").map(String.init).sorted()
            for label in labels where label.range(of: #"^[a-zA-Z_][a-zA-Z0-9_]*=".*"$"#, options: .regularExpression) == nil {
                throw Malformed(line: String(line))
            }
            name = String(name[..<open]) + "{" + labels.joined(separator: ",") + "}"
        }
        guard name.range(of: #"^[a-zA-Z_:][a-zA-Z0-9_:]*"#, options: .regularExpression) != nil else { throw Malformed(line: String(line)) }
        samples[name] = value
    }
    return samples
}

/// A priced code through `serve`: the storefront's redemption answers 402 with an order and signed checkout
/// fields, the seat is held, the learner's ACCEPT completes the redemption and the sandbox LMS enrolls them;
/// the learner's own `/redeem` page offers the same payment as a plain form.
@Suite(.serialized) struct PricedCodeEndToEndTests {
    @Test func aPricedCodeIsPaidAtTheCheckoutAndTheAcceptEnrolls() async throws {
        let setup = try await PaymentSetup()
        // zoe (zoe.muller@example.com) is in the sandbox's seed.
        let store = try openStore(setup.dir.path + "/registrar.sqlite")
        let code = try #require(try await store.createCodes(NewCodes(count: 1, courseID: demoCourse, mode: "verified", source: "invoice",
                                                                     sourceReference: "7", price: 49, currency: "USD")).first).code
        let asked = try await setup.request("POST", "/api/v1/codes/\(code.grouped)/redemptions", token: setup.storefrontToken,
                                            json: #"{"email": "Zoe.Muller@example.com"}"#)
        #expect(asked.status == 402, "\(asked.text)")
        #expect(asked.json["error"]?.stringValue == "payment_required")
        let reference = try #require(asked.json["order"]?["reference"]?.stringValue, "\(asked.text)")
        #expect(asked.json["order"]?["total"]?.stringValue == "49.00" && asked.json["order"]?["currency"]?.stringValue == "USD")
        let fields = try #require(asked.json["order"]?["cybersource"]?["fields"])
        #expect(fields["reference_number"]?.stringValue == reference && fields["amount"]?.stringValue == "49.00")
        #expect(fields["profile_id"]?.stringValue == profileID && fields["signature"] != nil)
        // The storefront that asked may read the order (its receipt page).
        let shown = try await setup.request("GET", "/api/v1/orders/\(reference)", token: setup.storefrontToken)
        #expect(shown.status == 200 && shown.json["status"]?.stringValue == "pending", "\(shown.text)")
        // Asked again: the same order. Another learner: the seat is held.
        let again = try await setup.request("POST", "/api/v1/codes/\(code.grouped)/redemptions", token: setup.storefrontToken,
                                            json: #"{"email": "zoe.muller@example.com"}"#)
        #expect(again.status == 402 && again.json["order"]?["reference"]?.stringValue == reference)
        let other = try await setup.request("POST", "/api/v1/codes/\(code.grouped)/redemptions", token: setup.storefrontToken,
                                            json: #"{"email": "bo@example.com"}"#)
        #expect(other.status == 409 && other.json["error"]?.stringValue == "code_spent")
        // The learner's page offers the payment as a form posting the signed fields to the checkout.
        let page = try await setup.request("POST", "/redeem", form: formEncode([("code", code.grouped), ("email", "zoe.muller@example.com")]))
        #expect(page.status == 402)
        #expect(page.text.contains(#"<form method="post" action="https://testsecureacceptance.cybersource.com/pay">"#), "\(page.text)")
        #expect(page.text.contains(#"name="reference_number" value="\#(reference)""#) && page.text.contains("Pay 49.00 USD"))

        let paid = try await setup.request("POST", "/callbacks/cybersource",
                                           form: setup.callback(reference: reference, currency: "USD"))
        #expect(paid.status == 200, "\(paid.text)")
        try await setup.settle()
        #expect(await setup.sandbox.enrollment(username: "zoe", courseID: demoCourse)?.isActive == true)
        let record = try #require(try await store.code(code))
        #expect(record.state == .redeemed && record.redemptions.map(\.email) == ["zoe.muller@example.com"])
        let redeemed = try await setup.request("POST", "/api/v1/codes/\(code.grouped)/redemptions", token: setup.storefrontToken,
                                               json: #"{"email": "zoe.muller@example.com"}"#)
        #expect(redeemed.status == 200 && redeemed.json["status"]?.stringValue == "already_redeemed")
        await setup.shutdown()
    }
}
