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
        let bought = [UInt8](JSONValue.parse(String(decoding: order, as: UTF8.self))
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

        // Two of the three seats refunded at the store (the order stays processing, its line still says 3): the
        // one unredeemed code goes, and the second seat is a redeemed one: the order is flagged, nobody unenrolled.
        try await setup.sandbox.addWooOrders([seatOrder(modified: "2026-12-03T09:00:00")])
        try await setup.sandbox.addWooRefund(orderID: 8100, refund: [
            "id": 9001, "amount": "98.00",
            "line_items": [["quantity": -2, "meta_data": [["key": "_refunded_item_id", "value": "81001"]]]],
        ])
        let refundSummary: SandboxJSON = ["id": 9001, "reason": "", "total": "-98.00"]
        let partial = try await setup.deliver(Array(try seatOrder(modified: "2026-12-03T09:30:00", refunds: [refundSummary]).encoded()))
        #expect(partial.status == 200, "\(partial.json)")
        try await setup.settle()
        var now = try await store.codes(CodeFilter(source: "order", sourceReference: "main:8100:81001"))
        #expect(now.filter { $0.state == .void }.count == 1 && now.filter { $0.state == .redeemed }.count == 2)
        let refundJob = try #require(try await store.jobs(JobFilter(kind: .woocommerceRefund)).first)
        #expect(refundJob.state == .succeeded && refundJob.result?.contains("2 of 3 seats of line 81001 refunded") == true,
                "\(refundJob.state) \(refundJob.result ?? "") \(refundJob.lastError ?? "")")
        let config = setup.dir.path + "/registrar.yaml"
        let flagged = try await runRegistrar(["orders", "list", "--attention", "--config", config], workingDirectory: setup.dir.path)
        #expect(flagged.status == 0 && flagged.output.contains("main:8100") && flagged.output.contains("refund_exceeds_unredeemed_seats"),
                "\(flagged.output)")
        let redeemedCode = try #require(now.first { $0.state == .redeemed })
        #expect(flagged.output.contains(redeemedCode.code.grouped), "the flag names the redeemed codes whole for the operator")
        let flags = try await store.storeOrdersNeedingAttention(limit: 10)
        #expect(flags.count == 1 && (flags.first?.detail.contains("ann@example.com") == true || flags.first?.detail.contains("ben@example.com") == true))
        // The same refund seen again (catch-up, a repeated webhook) voids nothing more and raises nothing new.
        _ = try await store.refundSeats([SeatRefund(SeatGrant(store: "main", orderID: 8100, orderNumber: "8100", lineID: 81001,
                                                              courseID: course2026, mode: "audit", seats: 3,
                                                              buyerEmail: "learner0@example.com"), refunded: 2)], deliveryID: nil)
        #expect(try await store.codes(CodeFilter(source: "order", sourceReference: "main:8100:81001")) == now)
        let dismissed = try await runRegistrar(["orders", "dismiss", "main:8100", "--note", "keeping both learners", "--config", config],
                                               workingDirectory: setup.dir.path)
        #expect(dismissed.status == 0, "\(dismissed.output)")
        #expect(try await store.storeOrdersNeedingAttention(limit: 10).isEmpty)
        // A later update of the order (still 3 on the line) makes no code again and does not raise the same flag.
        let later = Array(try seatOrder(modified: "2026-12-03T09:40:00", refunds: [refundSummary]).encoded())
        #expect(try await setup.deliver(later).status == 200)
        #expect(try await store.codes(CodeFilter(source: "order", sourceReference: "main:8100:81001")) == now)
        #expect(try await store.storeOrdersNeedingAttention(limit: 10).isEmpty)

        // Refunded in full: nothing unredeemed is left; both redeemed codes stay and the order is flagged again.
        let refund = try await setup.deliver(Array(try seatOrder(modified: "2026-12-03T10:00:00", status: "refunded",
                                                                 refunds: [refundSummary]).encoded()))
        #expect(refund.status == 200)
        let notes = refund.json["notes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(notes.contains { $0.hasPrefix("refund_exceeds_unredeemed_seats") && $0.contains("ann@example.com") }, "\(notes)")
        now = try await store.codes(CodeFilter(source: "order", sourceReference: "main:8100:81001"))
        #expect(now.filter { $0.state == .void }.count == 1 && now.filter { $0.state == .redeemed }.count == 2)
        #expect(try await store.storeOrdersNeedingAttention(limit: 10).count == 1)
        try await setup.settle()
        #expect(await setup.ledger().count == 2, "nobody was unenrolled")
        #expect(!setup.serve.log.contains(codes[0].code.value), "a whole code in serve's log")
        for code in codes { #expect(!setup.serve.log.contains(code.code.grouped), "a whole code in serve's log") }
        await setup.shutdown()
    }

    /// Order 8100 with three seats on its one line, as the store holds it at `modified`.
    func seatOrder(modified: String, status: String = "processing", refunds: [SandboxJSON] = []) -> SandboxJSON {
        var fields = paidOrder(8100, learner: 0, status: status, modified: modified).objectValue ?? [:]
        fields["line_items"] = .array((fields["line_items"]?.arrayValue ?? []).map { line in
            guard var item = line.objectValue else { return line }
            item["quantity"] = .int(3)
            return .object(item)
        })
        fields["refunds"] = .array(refunds)
        return .object(fields)
    }
}
