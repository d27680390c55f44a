import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// Several seats bought in one WooCommerce line, through `serve` and the sandbox LMS: codes, not an enrollment of
/// the buyer; learners redeem them; a refund gives back what was not redeemed.
@Suite(.serialized) struct SeatsEndToEndTests {
    @Test func aThreeSeatLineBecomesCodesThatLearnersRedeem() async throws {
        let setup = try await WooSetup()
        for name in ["ann", "ben"] { _ = try await setup.sandbox.addUser(username: name, email: "\(name)@example.com") }
        let created = try await runRegistrar(["tokens", "create", "--name", "shop", "--role", "storefront", "--config",
                                              setup.dir.path + "/registrar.yaml"], workingDirectory: setup.dir.path)
        let token = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init), "\(created.output)")

        let order = [UInt8](try paidOrder(8100, learner: 0, modified: "2026-12-03T09:00:00").encoded())
        let bought = try [UInt8](JSONValue.parse(String(decoding: order, as: UTF8.self))
            .map { value -> Data in
                var text = value.jsonText
                text = text.replacingOccurrences(of: #""quantity":1"#, with: #""quantity":3"#)
                return Data(text.utf8)
            } ?? Data())
        let first = try await setup.deliver(bought)
        #expect(first.status == 200, "\(first.json)")
        #expect(first.json["notes"]?.arrayValue?.contains { $0.stringValue?.contains("3 codes for the buyer") == true } == true, "\(first.json)")
        let again = try await setup.deliver(bought)
        #expect(again.status == 200)

        let store = try setup.store()
        let codes = try await store.codes(CodeFilter(source: "order", sourceReference: "main:8100:81001"))
        #expect(codes.count == 3, "repeated deliveries made no new codes")
        try await setup.settle()
        let mail = try #require(try await store.jobs(JobFilter(kind: .mail)).first)
        #expect(mail.state == .failed && mail.lastError?.contains("mail is not configured (mail.smtp_url)") == true)
        #expect(try mail.decodePayload(CodesMailPayload.self).codes.count == 3)
        #expect(await setup.ledger().isEmpty, "the buyer is not enrolled")

        for (learner, code) in zip(["ann", "ben"], codes) {
            let response = try await setup.http.execute(HTTPRequest(
                method: "POST", url: setup.serve.baseURL + "/api/v1/codes/\(code.code.grouped)/redemptions",
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                body: Array(#"{"email": "\#(learner)@example.com"}"#.utf8)))
            #expect(response.status == 201, "\(response.bodyText)")
        }
        try await setup.settle()
        #expect(summary(await setup.ledger()).sorted() == ["enroll ann \(course2026)", "enroll ben \(course2026)"])

        // Refunded in full: the one unredeemed code goes; the two redeemed stay and the delivery says so.
        let refunded = try [UInt8](bought.count > 0 ? Data(String(decoding: bought, as: UTF8.self)
            .replacingOccurrences(of: #""status":"processing""#, with: #""status":"refunded""#)
            .replacingOccurrences(of: "2026-12-03T09:00:00", with: "2026-12-03T10:00:00").utf8) : Data())
        let refund = try await setup.deliver(refunded)
        #expect(refund.status == 200)
        let notes = refund.json["notes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(notes.contains { $0.contains("1 unredeemed code voided") }, "\(notes)")
        #expect(notes.contains { $0.hasPrefix("refund_exceeds_unredeemed_seats") && $0.contains("ann@example.com") }, "\(notes)")
        let after = try await store.codes(CodeFilter(source: "order", sourceReference: "main:8100:81001"))
        #expect(after.filter { $0.state == .void }.count == 1 && after.filter { $0.state == .redeemed }.count == 2)
        try await setup.settle()
        #expect(await setup.ledger().count == 2, "nobody was unenrolled")
        #expect(!setup.serve.log.contains(codes[0].code.value), "a whole code in serve's log")
        await setup.shutdown()
    }
}
