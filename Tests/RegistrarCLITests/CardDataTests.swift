import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RegistrarCore
import TestSupport
import Testing

/// Card numbers in every shape an attacker tried (a card-number field in upper case, a number in another field, a
/// bare JSON number, numbers with spaces, dashes, `+`, `%20` or `%2D`, bodies that do not parse), sent to a real
/// `registrar serve` signed, badly signed and unsigned, never reach the database files, the API or the log whole.
@Suite(.serialized) struct CardDataTests {
    /// A card as it is sent: its digits and the text it is written as.
    struct Card: CustomStringConvertible {
        var digits: String
        var written: String
        init(_ digits: String, written: String? = nil) {
            self.digits = digits
            self.written = written ?? digits
        }
        var lastFour: String { String(digits.suffix(4)) }
        var description: String { written }
    }

    // WooCommerce, signed and accepted
    static let inNote = Card("4532015112830366", written: "please charge 4532015112830366 again")
    static let spaced = Card("5425233430109903", written: "5425 2334 3010 9903")
    static let jsonNumber = Card("371449635398431")
    static let inMeta = Card("4000056655665556")
    // WooCommerce, refused
    static let badlySigned = Card("6011111111111117", written: "6011-1111-1111-1117")
    static let unsigned = Card("4917484589897107", written: "4917 4845 8989 7107")
    static let garbageSpaced = Card("4035501000000008", written: "4035 5010 0000 0008")
    static let garbageDashed19 = Card("6304000000000000018", written: "6304-0000-0000-0000-018")
    // CyberSource, signed (for an order Registrar does not know)
    static let upperCaseField = Card("4012888888881881")
    static let percentSpaced = Card("30569309025904", written: "3056 9309 0259 04")
    static let plusSpaced = Card("5105105105105100", written: "5105+1051+0510+5100")
    static let percentDashed = Card("6759649826438453", written: "6759%2D6498%2D2643%2D8453")
    // CyberSource, badly signed; a card-number field is masked even when its number fails the Luhn check
    static let notLuhnInCardField = Card("4111111111111112")
    static let lowerCaseField = Card("5555444433331111")
    // CyberSource, not form encoding at all
    static let garbageAmex = Card("378282246310005", written: "3782-822463-10005")
    static let garbageVisa13 = Card("4222222222222")
    static let garbage19 = Card("6200000000000000125", written: "6200 0000 0000 0000 125")
    static let garbageField = Card("4242424242424242")

    static let all = [inNote, spaced, jsonNumber, inMeta, badlySigned, unsigned, garbageSpaced, garbageDashed19,
                      upperCaseField, percentSpaced, plusSpaced, percentDashed, notLuhnInCardField, lowerCaseField,
                      garbageAmex, garbageVisa13, garbage19, garbageField]

    /// CyberSource's transaction ids are 22 digits: kept whole, not mistaken for a card.
    static let transactionID = "4083708299660176195663"

    @Test(arguments: ["text", "json"])
    func cardNumbersNeverReachTheDatabaseTheAPIOrTheLog(logFormat: String) async throws {
        Self.expectTestCards(Self.all.filter { $0.digits != Self.notLuhnInCardField.digits })
        let (dir, config) = try Self.configure("""
            cybersource:
              profiles:
                "0000001": {access_key: access-key-1, secret_key: \(Self.profileSecret)}
            jobs: {max_attempts: 1, backoff_base_seconds: 0.05, backoff_cap_seconds: 0.1, poll_interval_seconds: 0.1}
            logging: {level: debug, format: \(logFormat)}
            """)
        let created = try await runRegistrar(["tokens", "create", "--name", "ops", "--role", "ops", "--config", config],
                                             workingDirectory: dir.path)
        let token = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init),
                                 "\(created.output)")
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        defer { serve.forceStop() }
        let http = CardHTTP(base: "http://127.0.0.1:\(serve.port)")

        var statuses: [String: Int] = [:]
        for (name, delivery) in try Self.deliveries() {
            statuses[name] = try await http.send("POST", delivery.path, headers: delivery.headers, body: delivery.body).status
        }
        #expect(statuses == ["woocommerce signed": 200, "woocommerce badly signed": 401, "woocommerce unsigned": 401,
                             "woocommerce signed garbage": 400, "cybersource signed": 404, "cybersource badly signed": 401,
                             "cybersource garbage": 400], "\(serve.log.suffix(3000))")

        // The API: every delivery, in full.
        var answers: [String] = []
        for id in 1...(statuses.count + 2) {
            let answer = try await http.send("GET", "/api/v1/deliveries/\(id)", headers: ["Authorization": "Bearer \(token)"])
            if answer.status == 200 { answers.append(answer.text) } else { #expect(answer.status == 404) }
        }
        #expect(answers.count == statuses.count, "\(answers)")
        let api = answers.joined(separator: "\n")
        // The CLI's view of the same ledger.
        var shown = ""
        for id in 1...statuses.count {
            shown += try await runRegistrar(["deliveries", "show", "\(id)", "--config", config], workingDirectory: dir.path).output
        }

        // The database files while serve runs (the WAL holds the newest pages), then again after it stops.
        let whileRunning = try Self.everyFile(in: dir.path)
        #expect(whileRunning.keys.contains { $0.hasSuffix("registrar.sqlite") }, "\(whileRunning.keys.sorted())")
        #expect(serve.stop() == 0, "\(serve.log.suffix(3000))")
        try await Task.sleep(for: .milliseconds(200)) // its last lines, read from the pipe after the exit
        let afterwards = try Self.everyFile(in: dir.path)
        let log = serve.log
        #expect(log.contains("delivery rejected") || log.contains("callback rejected"), "\(log.suffix(2000))")

        var places: [(String, String)] = [("the API", api), ("`registrar deliveries show`", shown), ("serve's log", log)]
        for (name, bytes) in whileRunning { places.append(("\(name) while serve ran", String(decoding: bytes, as: UTF8.self))) }
        for (name, bytes) in afterwards { places.append(("\(name) after serve stopped", String(decoding: bytes, as: UTF8.self))) }
        Self.expectNoCard(Self.all, in: places)
        // Masked, not dropped: the last four of every card are still there to be read, and so is the transaction id.
        let strippedAPI = Self.withoutSeparators(api)
        for card in Self.all {
            #expect(strippedAPI.contains("x" + card.lastFour), "the API lost the last four of \(card.digits)")
        }
        #expect(api.contains(Self.transactionID))
        #expect(api.contains("xxxxxxxxxxxx1881") && api.contains("xxxxxxxxxxxx1112"), "\(api)")
    }

    /// No card anywhere in `places`: not as digits, not as written, not once separators are taken out.
    static func expectNoCard(_ cards: [Card], in places: [(String, String)],
                             sourceLocation: SourceLocation = #_sourceLocation) {
        for (place, text) in places {
            let stripped = withoutSeparators(text)
            for card in cards {
                // Worked out first, so that a failure names the card and the place, not megabytes of database.
                let plain = text.contains(card.digits)
                let written = card.written != card.digits && text.contains(numberPart(card.written))
                let joined = stripped.contains(card.digits)
                #expect(!plain && !written && !joined,
                        "\(place) holds \(card.digits) (\(plain ? "as digits" : written ? "as written" : "without separators"))",
                        sourceLocation: sourceLocation)
            }
        }
    }

    /// Outside the body: a signed order whose malformed field quotes a card into the rejection reason (stored,
    /// logged and answered), and card numbers in the headers the ledger keeps (User-Agent, X-WC-Webhook-*).
    @Test func cardNumbersInHeadersAndRejectionReasonsAreMaskedToo() async throws {
        let inReason = Card("4716461583322103", written: "4716-4615-8332-2103")
        let inUserAgent = Card("5200828282828210", written: "5200 8282 8282 8210")
        let inWebhookHeader = Card("4000002500003155")
        Self.expectTestCards([inReason, inUserAgent, inWebhookHeader])
        let (dir, config) = try Self.configure("logging: {level: debug}")
        let created = try await runRegistrar(["tokens", "create", "--name", "ops", "--role", "ops", "--config", config],
                                             workingDirectory: dir.path)
        let token = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init),
                                 "\(created.output)")
        let serve = try ServeProcess(configPath: config, workingDirectory: dir.path)
        defer { serve.forceStop() }
        let http = CardHTTP(base: "http://127.0.0.1:\(serve.port)")

        let malformed = Array(#"{"id":"\#(inReason.written)","status":"processing","line_items":[]}"#.utf8)
        let signed = try await http.send("POST", "/webhooks/woocommerce/main", headers: [
            "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": WooWebhookSignature.sign(body: malformed, secret: Secret(Self.wooSecret)),
        ], body: malformed)
        #expect(signed.status == 400, "\(signed.text)")
        let unsigned = try await http.send("POST", "/webhooks/woocommerce/main", headers: [
            "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
            "User-Agent": "WooCommerce/9.4.0 \(inUserAgent.written)", "X-WC-Webhook-Source": "https://shop.example.com/\(inWebhookHeader.digits)",
        ], body: Array("{}".utf8))
        #expect(unsigned.status == 401, "\(unsigned.text)")

        var answers = signed.text + "\n" + unsigned.text
        for id in 1...2 {
            answers += "\n" + (try await http.send("GET", "/api/v1/deliveries/\(id)", headers: ["Authorization": "Bearer \(token)"]).text)
        }
        let whileRunning = try Self.everyFile(in: dir.path)
        #expect(serve.stop() == 0)
        try await Task.sleep(for: .milliseconds(200)) // its last lines, read from the pipe after the exit
        var places: [(String, String)] = [("the answers and the API", answers), ("serve's log", serve.log)]
        for (name, bytes) in whileRunning { places.append((name, String(decoding: bytes, as: UTF8.self))) }
        Self.expectNoCard([inReason, inUserAgent, inWebhookHeader], in: places)
    }

    /// A card that fails the Luhn check would prove nothing about masking.
    static func expectTestCards(_ cards: [Card]) {
        for card in cards {
            #expect(CardNumberMasking.isLuhnValid(Array(card.digits.utf8)), "\(card.digits) is not a test card number")
        }
    }

    /// A fresh directory and a serve configuration in it: the store, an unreachable LMS, and `extra` keys.
    static func configure(_ extra: String) throws -> (dir: TemporaryDirectory, config: String) {
        let dir = try TemporaryDirectory(prefix: "registrar-card-data")
        let config = dir.file("registrar.yaml")
        try """
            database: \(dir.file("registrar.sqlite"))
            server: {host: 127.0.0.1, port: 0}
            openedx: {lms_url: "http://127.0.0.1:9", studio_url: "http://127.0.0.1:9", client_secret: lms-secret}
            woocommerce:
              stores:
                main: {webhook_secret: \(Self.wooSecret)}
            \(extra)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        return (dir, config)
    }

    static let wooSecret = "wc-card-secret"
    static let profileSecret = "cs-card-secret"

    struct Delivery {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
    }

    static func deliveries() throws -> [(String, Delivery)] {
        let wooHeaders = ["Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
                          "X-WC-Webhook-Source": "https://shop.example.com/", "X-WC-Webhook-ID": "12"]
        func woo(_ body: [UInt8], signature: String?) -> Delivery {
            var headers = wooHeaders
            headers["X-WC-Webhook-Signature"] = signature
            return Delivery(path: "/webhooks/woocommerce/main", headers: headers, body: body)
        }
        func sign(_ body: [UInt8]) -> String { WooWebhookSignature.sign(body: body, secret: Secret(wooSecret)) }

        // Order 727 with a card in the customer's note, another spaced in an address, one as a bare JSON number,
        // and one under a meta key named like a card field.
        var order = String(decoding: try fixture("woocommerce/order-727-processing.json"), as: UTF8.self)
        order = order.replacingOccurrences(of: #""customer_note":"""#, with: #""customer_note":"\#(inNote.written)""#)
        order = try replacingFirst(#""address_2":"""#, with: #""address_2":"\#(spaced.written)""#, in: order)
        order = try replacingFirst("{", with: #"{"card_on_file":\#(jsonNumber.digits),"#, in: order)
        order = try replacingFirst(#""meta_data":["#, with: #""meta_data":[{"id":4413,"key":"Card_Number","value":"\#(inMeta.digits)"},"#,
                                   in: order)
        #expect(JSONValue.parse(order) != nil, "the order is no longer JSON")
        let signedOrder = Array(order.utf8)
        let refused = Array(#"{"id":728,"status":"processing","customer_note":"\#(badlySigned.written)","line_items":[]}"#.utf8)
        let unsignedBody = Array(#"{"id":729,"status":"processing","billing":{"address_1":"\#(unsigned.written)"}}"#.utf8)
        let garbage = Array("{not json: \(garbageSpaced.written) / \(garbageDashed19.written) %zz".utf8)

        // A signed callback for an order Registrar never made (so it is recorded and refused with 404), with the card
        // field in upper case and cards in fields Registrar does not read.
        let now = Date()
        let stamp = now.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false)
            .timeZone(separator: .omitted)).replacingOccurrences(of: "+0000", with: "Z")
        var fields: [String: String] = [
            "decision": "ACCEPT", "req_reference_number": "R-CARD-1", "req_amount": "49.00", "auth_amount": "49.00",
            "req_currency": "USD", "transaction_id": transactionID, "req_profile_id": "0000001", "signed_date_time": stamp,
            "REQ_CARD_NUMBER": upperCaseField.digits, "req_bill_to_address_line1": percentSpaced.written,
        ]
        let names = ["decision", "req_reference_number", "req_amount", "auth_amount", "req_currency", "transaction_id",
                     "req_profile_id", "signed_date_time", "REQ_CARD_NUMBER", "req_bill_to_address_line1", "signed_field_names"]
        fields["signed_field_names"] = names.joined(separator: ",")
        fields["signature"] = SecureAcceptanceSignature.sign(fields: fields, signedFieldNames: names, secret: Secret(profileSecret))
        let signedForm = FormEncoding.encode((names + ["signature"]).map { ($0, fields[$0]!) })
            + "&comment=\(plusSpaced.written)&note=\(percentDashed.written)"
        #expect(signedForm.contains("3056%209309%200259%2004"), "\(signedForm)")
        let forged = "decision=ACCEPT&REQ_CARD_NUMBER=\(notLuhnInCardField.digits)&req_card_number=\(lowerCaseField.digits)"
            + "&req_profile_id=0000001&transaction_id=\(transactionID)&signed_field_names=decision&signature=Zm9yZ2Vk"
        let notForm = "req_card_number=\(garbageField.digits)&x=%zz&amex=\(garbageAmex.written)&visa=\(garbageVisa13.digits)"
            + "&long=\(garbage19.written)"
        let form = ["Content-Type": "application/x-www-form-urlencoded"]

        return [
            ("woocommerce signed", woo(signedOrder, signature: sign(signedOrder))),
            ("woocommerce badly signed", woo(refused, signature: sign(Array("something else".utf8)))),
            ("woocommerce unsigned", woo(unsignedBody, signature: nil)),
            ("woocommerce signed garbage", woo(garbage, signature: sign(garbage))),
            ("cybersource signed", Delivery(path: "/callbacks/cybersource", headers: form, body: Array(signedForm.utf8))),
            ("cybersource badly signed", Delivery(path: "/callbacks/cybersource", headers: form, body: Array(forged.utf8))),
            ("cybersource garbage", Delivery(path: "/callbacks/cybersource", headers: form, body: Array(notForm.utf8))),
        ]
    }

    struct NotFound: Error { var text: String }

    static func replacingFirst(_ target: String, with replacement: String, in text: String) throws -> String {
        guard let range = text.range(of: target) else { throw NotFound(text: target) }
        return text.replacingCharacters(in: range, with: replacement)
    }

    /// The number as written, without the words around it ("please charge 4532… again" → "4532…").
    static func numberPart(_ written: String) -> String {
        written.split(separator: " ").filter { $0.contains(where: \.isNumber) }.joined(separator: " ")
    }

    /// The text with every separator a card number may be written with taken out, escaped ones too.
    static func withoutSeparators(_ text: String) -> String {
        var out = text
        for separator in ["%20", "%2D", "%2d", "%2B", "%2b", "\\u0020", "\\u002d", " ", "-", "+"] {
            out = out.replacingOccurrences(of: separator, with: "")
        }
        return out
    }

    /// Every byte of every file under `path` (the database, its WAL and shared memory, anything else written).
    static func everyFile(in path: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let manager = FileManager.default
        for name in try manager.subpathsOfDirectory(atPath: path) {
            var isDirectory: ObjCBool = false
            let full = path + "/" + name
            guard manager.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = manager.contents(atPath: full) else { continue }
            files[name] = Array(data)
        }
        return files
    }
}

/// Plain HTTP/1.1 requests to serve.
private struct CardHTTP: Sendable {
    let base: String

    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil) async throws
        -> (status: Int, text: String) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
