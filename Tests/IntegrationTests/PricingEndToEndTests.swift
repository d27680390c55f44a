import Foundation
import RegistrarCore
import TestSupport
import Testing

/// Prices and coupons through `registrar serve`, the CLI and the sandbox LMS (issue 21).
@Suite(.serialized) struct PricingEndToEndTests {
    let course = demoCourse

    func order(_ setup: PaymentSetup, reference: String, course: String = demoCourse, price: String? = nil,
               coupon: String? = nil, token: String? = nil) async throws -> (status: Int, json: JSONValue, text: String) {
        let priceField = price.map { ", \"unit_price\": \"\($0)\"" } ?? ""
        let couponField = coupon.map { ", \"coupon\": \"\($0)\"" } ?? ""
        return try await setup.request("POST", "/api/v1/orders", token: token ?? setup.storefrontToken, json: """
            {"reference": "\(reference)", "email": "zoe.muller@example.com", "currency": "USD"\(couponField),
             "items": [{"course_id": "\(course)", "mode": "verified"\(priceField)}]}
            """)
    }

    @Test func theListedPriceAndACouponMakeTheAmountSignedPaidAndEnrolled() async throws {
        let setup = try await PaymentSetup()
        _ = try setup.cli(["prices", "set", "--course", course, "--mode", "verified", "--price", "50.00", "--currency", "USD"])

        // No price sent: the listed one.
        let listed = try await order(setup, reference: "P-1")
        #expect(listed.status == 201, "\(listed.text)")
        #expect(listed.json["total"]?.stringValue == "50.00")
        #expect(listed.json["items"]?.arrayValue?.first?["unit_price"]?.stringValue == "50.00")
        #expect(listed.json["cybersource"]?["fields"]?["amount"]?.stringValue == "50.00")

        // Another price: refused, unless the storefront's token may set prices.
        let mismatch = try await order(setup, reference: "P-2", price: "40.00")
        #expect(mismatch.status == 422 && mismatch.json["error"]?.stringValue == "price_mismatch", "\(mismatch.text)")
        #expect(mismatch.json["message"]?.stringValue?.contains("listed at 50.00 USD, not 40.00") == true)
        // Nor around the list by another currency, free: nothing stored, nothing enrolled.
        let around = try await setup.request("POST", "/api/v1/orders", token: setup.storefrontToken, json: """
            {"reference": "P-X", "email": "zoe.muller@example.com", "currency": "EUR",
             "items": [{"course_id": "\(course)", "mode": "verified", "unit_price": "0.00"}]}
            """)
        #expect(around.status == 422 && around.json["error"]?.stringValue == "price_missing", "\(around.text)")
        let trusted = try setup.cli(["tokens", "create", "--name", "pos", "--role", "storefront", "--may-set-prices"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let set = try await order(setup, reference: "P-2", price: "40.00", token: trusted)
        #expect(set.status == 201 && set.json["total"]?.stringValue == "40.00", "\(set.text)")

        // A 20 % coupon: the discounted amount is what is signed; an ACCEPT for it pays and enrolls.
        _ = try setup.cli(["coupons", "create", "SPRING20", "--percent", "20", "--course", "course-v1:edX+"])
        let discounted = try await order(setup, reference: "P-3", coupon: "spring20")
        #expect(discounted.status == 201, "\(discounted.text)")
        #expect(discounted.json["list_total"]?.stringValue == "50.00" && discounted.json["discount"]?.stringValue == "10.00")
        #expect(discounted.json["total"]?.stringValue == "40.00" && discounted.json["coupon"]?.stringValue == "SPRING20")
        guard case .object(let fieldsJSON)? = discounted.json["cybersource"]?["fields"] else { Issue.record("no fields"); return }
        let fields = fieldsJSON.compactMapValues(\.stringValue)
        #expect(fields["amount"] == "40.00")
        let signed = fields["signed_field_names"]!.split(separator: ",").map { (String($0), fields[String($0)]!) }
        #expect(secureAcceptanceSign(signed + [("signed_field_names", fields["signed_field_names"]!)], secret: profileSecret) == fields["signature"])
        let paid = try await setup.request("POST", "/callbacks/cybersource", form: setup.callback(reference: "P-3", amount: "40.00"))
        #expect(paid.status == 200 && paid.json["status"]?.stringValue == "paid", "\(paid.text)")

        // A 100 % coupon: paid at once, no CyberSource round-trip, enrolled all the same.
        _ = try setup.cli(["coupons", "create", "FREE", "--percent", "100", "--max-uses", "1"])
        // (The 2026 run has no listed price: the one sent is used, as before the price list.)
        let free = try await order(setup, reference: "P-4", course: course2026, price: "30.00", coupon: "FREE")
        #expect(free.status == 201 && free.json["status"]?.stringValue == "paid" && free.json["total"]?.stringValue == "0.00", "\(free.text)")
        #expect(free.json["cybersource"] == .null)
        try await setup.settle()
        let ledger = await setup.sandbox.ledger().map { "\($0.action.rawValue) \($0.user ?? "") \($0.courseID) \($0.order ?? "")" }
        #expect(Set(ledger) == ["enroll zoe \(course) P-3", "enroll zoe \(course2026) P-4"] && ledger.count == 2, "\(ledger)")

        // What the order keeps, in the API and the CLI, and what revenue makes of it.
        let shown = try await setup.request("GET", "/api/v1/orders/P-3", token: setup.storefrontToken)
        #expect(shown.json["coupon"]?.stringValue == "SPRING20" && shown.json["discount"]?.stringValue == "10.00")
        #expect(shown.json["items"]?.arrayValue?.first?["discount"]?.stringValue == "10.00" && shown.json["items"]?.arrayValue?.first?["total"]?.stringValue == "40.00")
        #expect(try setup.cli(["orders", "show", "P-3"]).contains("50.00 at list price − 10.00 discount (coupon SPRING20)"))
        // Gross at list price, the coupons' discounts, net: P-3 paid 40.00 of 50.00, P-4 nothing of 30.00 (P-1 and
        // P-2 were never paid).
        let revenue = try setup.cli(["reports", "revenue", "--csv"]).components(separatedBy: "\r\n")
        #expect(revenue.contains("\(course),USD,50.00,0.00,0.00,0.00,10.00,0.00,40.00"), "\(revenue)")
        #expect(revenue.contains("\(course2026),USD,30.00,0.00,0.00,0.00,30.00,0.00,0.00"), "\(revenue)")

        // Each coupon that cannot be used says why, and stores nothing.
        _ = try setup.cli(["coupons", "create", "OLD", "--percent", "10", "--expires", "2020-01-31"])
        _ = try setup.cli(["coupons", "create", "GONE", "--percent", "10"])
        _ = try setup.cli(["coupons", "deactivate", "GONE"])
        _ = try setup.cli(["coupons", "create", "MITONLY", "--percent", "10", "--course", "course-v1:MITx+"])
        _ = try setup.cli(["coupons", "create", "EUROS", "--amount", "5", "--currency", "EUR"])
        for (coupon, code) in [("OLD", "coupon_expired"), ("FREE", "coupon_exhausted"), ("GONE", "coupon_inactive"),
                               ("MITONLY", "coupon_out_of_scope"), ("NOPE", "coupon_unknown"), ("EUROS", "coupon_currency")] {
            let refused = try await order(setup, reference: "X-\(coupon)", coupon: coupon)
            #expect(refused.status == 422 && refused.json["error"]?.stringValue == code, "\(coupon): \(refused.text)")
            let absent = try await setup.request("GET", "/api/v1/orders/X-\(coupon)", token: setup.storefrontToken)
            #expect(absent.status == 404, "\(coupon): a refused order is not stored")
        }
        await setup.shutdown()
    }

    @Test func twentyRacingOrdersGetTheLastUseOnceAndADeclineGivesItBack() async throws {
        let setup = try await PaymentSetup()
        _ = try setup.cli(["prices", "set", "--course", course, "--mode", "verified", "--price", "50.00", "--currency", "USD"])
        _ = try setup.cli(["coupons", "create", "LAST", "--percent", "20", "--max-uses", "1"])
        let answers = try await withThrowingTaskGroup(of: (String, Int, JSONValue).self) { group in
            for index in 0..<20 {
                group.addTask {
                    let answer = try await order(setup, reference: "RACE-\(index)", coupon: "LAST")
                    return ("RACE-\(index)", answer.status, answer.json)
                }
            }
            return try await group.reduce(into: [(String, Int, JSONValue)]()) { $0.append($1) }
        }
        let created = answers.filter { $0.1 == 201 }
        #expect(created.count == 1)
        #expect(created.first?.2["total"]?.stringValue == "40.00")
        let exhausted = answers.filter { $0.1 == 422 && $0.2["error"]?.stringValue == "coupon_exhausted" }
        #expect(exhausted.count == 19)
        let winner = try #require(created.first?.0)

        let declined = try await setup.request("POST", "/callbacks/cybersource",
                                               form: setup.callback(reference: winner, decision: "DECLINE", amount: "40.00"))
        #expect(declined.status == 200, "\(declined.text)")
        let again = try await order(setup, reference: "AFTER", coupon: "LAST")
        #expect(again.status == 201 && again.json["total"]?.stringValue == "40.00", "\(again.text)")
        let listed = try setup.cli(["coupons", "show", "LAST", "--json"])
        #expect(JSONValue.parse(listed)?["held"] == .number(1), "\(listed)")
        await setup.shutdown()
    }
}
