import Foundation
import RegistrarCore
import Testing

/// `OrderRequestRules`: what `POST /api/v1/orders` accepts, and the sentence each refusal says.
@Suite struct OrderRequestRulesTests {
    func check(email: String = " Ada@Example.com ", currency: String = "usd", lines: [OrderRequestRules.Line]? = nil,
               reference: String? = "WEB-1") -> Result<OrderRequestRules.Checked, OrderRequestProblem> {
        OrderRequestRules.check(email: email, currency: currency,
                                lines: lines ?? [.init(courseID: "course-v1:edX+DemoX+2026", mode: "verified", quantity: 2, unitPrice: "49.5")],
                                reference: reference, newReference: { "RG-NEW" })
    }

    func refusal(_ result: Result<OrderRequestRules.Checked, OrderRequestProblem>) -> String? {
        if case .failure(let problem) = result { return problem.message }
        return nil
    }

    @Test func aGoodOrderIsNormalised() throws {
        let checked = try check().get()
        #expect(checked.email == "ada@example.com")
        #expect(checked.currency == "USD")
        #expect(checked.total == Decimal(string: "99.00"))
        #expect(checked.items == [OrderItem(courseID: "course-v1:edX+DemoX+2026", mode: "verified", quantity: 2, unitPrice: "49.50")])
        #expect(checked.reference == "WEB-1")
        #expect(try check(reference: nil).get().reference == "RG-NEW")
    }

    @Test func eachRefusalNamesItsField() {
        #expect(refusal(check(email: "ada@example.com\nforged: line"))?.contains("control character") == true)
        #expect(refusal(check(email: "not-an-email"))?.contains("is not an email address") == true)
        #expect(refusal(check(currency: "dollars")) == "currency \"dollars\" is not a three-letter ISO 4217 code")
        #expect(refusal(check(currency: "U$D"))?.hasPrefix("currency") == true)
        #expect(refusal(check(lines: [])) == "items is empty: an order sells at least one seat")
        #expect(refusal(check(lines: [.init(courseID: "DemoX", unitPrice: "1")]))?.hasPrefix("items[0].course_id \"DemoX\"") == true)
        #expect(refusal(check(lines: [.init(courseID: "course-v1:a+b+c", quantity: 0, unitPrice: "1")]))
                == "items[0].quantity must be between 1 and 10000")
        #expect(refusal(check(lines: [.init(courseID: "course-v1:a+b+c", quantity: 10_001, unitPrice: "1")])) != nil)
        for price in ["-1", "1e3", "12,50", "", "NaN", "0x10"] {
            #expect(refusal(check(lines: [.init(courseID: "course-v1:a+b+c", unitPrice: price)]))?.contains("unit_price") == true, "\(price)")
        }
        #expect(refusal(check(lines: [.init(courseID: "course-v1:a+b+c", unitPrice: "0.00")]))?.hasPrefix("the order's total is 0.00 and no price is listed") == true,
                "nothing to pay, nothing listed: no free enrollment on the storefront's word")
        #expect(refusal(check(lines: [.init(courseID: "course-v1:a+b+c", unitPrice: "0.00"), .init(courseID: "course-v1:a+b+d", unitPrice: "5")])) == nil)
        #expect(refusal(check(lines: [.init(courseID: "course-v1:a+b+c", mode: "ver ified", unitPrice: "5")]))?.contains("is not a course mode") == true)
        #expect(refusal(check(reference: "with space"))?.contains("must be 1 to 64 letters") == true)
        #expect(refusal(check(reference: String(repeating: "A", count: 65))) != nil)
        #expect(refusal(check(reference: "")) != nil)
    }

    @Test func theListedPriceIsUsedAndAnotherOneRefusedWithItsCode() throws {
        let course = "course-v1:edX+DemoX+2026"
        let prices = ListedPrices([ListedPrice(courseID: course, mode: "verified", currency: "usd", price: 49),
                                   ListedPrice(courseID: course, mode: "verified", currency: "EUR", price: 45),
                                   ListedPrice(courseID: "course-v1:edX+Two+2026", mode: "verified", currency: "USD", price: 10),
                                   ListedPrice(courseID: "course-v1:edX+Two+2026", mode: "professional", currency: "USD", price: 90)])
        func run(_ lines: [OrderRequestRules.Line], currency: String = "USD", may: Bool = false) -> Result<OrderRequestRules.Checked, OrderRequestProblem> {
            OrderRequestRules.check(email: "ada@example.com", currency: currency, lines: lines, reference: "W-1", prices: prices,
                                    maySetPrices: may, newReference: { "RG-NEW" })
        }
        func code(_ result: Result<OrderRequestRules.Checked, OrderRequestProblem>) -> String? {
            if case .failure(let problem) = result { return problem.code }
            return nil
        }
        let listed = try run([.init(courseID: course, mode: "verified", quantity: 2, unitPrice: nil)]).get()
        #expect(listed.items.map(\.unitPrice) == ["49.00"])
        #expect(try run([.init(courseID: course, unitPrice: nil)]).get().items.map(\.mode) == ["verified"], "sold in the mode listed")
        // A course with a price list cannot be sold around it: another currency or mode, or free.
        #expect(code(run([.init(courseID: course, mode: "verified", unitPrice: "0")], currency: "GBP")) == "price_missing")
        #expect(code(run([.init(courseID: course, mode: "Verified", unitPrice: "1")])) == "price_missing")
        #expect(try run([.init(courseID: course, mode: "verified", unitPrice: "30")], currency: "GBP", may: true).get().total == 30)
        #expect(try run([.init(courseID: "course-v1:edX+Free+2026", mode: "audit", unitPrice: "0")], may: true).get().total == 0)
        #expect(listed.total == 98)
        #expect(try run([.init(courseID: course, mode: "verified", unitPrice: nil)], currency: "eur").get().total == 45, "in the order's currency")
        #expect(try run([.init(courseID: course, unitPrice: nil)]).get().total == 49, "no mode: the only one listed")
        #expect(try run([.init(courseID: course, mode: "verified", unitPrice: "49")]).get().total == 49, "the same price sent")
        #expect(code(run([.init(courseID: course, mode: "verified", unitPrice: "39.00")])) == "price_mismatch")
        #expect(try run([.init(courseID: course, mode: "verified", unitPrice: "39.00")], may: true).get().total == 39)
        #expect(code(run([.init(courseID: course, mode: "verified", unitPrice: nil)], currency: "GBP")) == "price_missing")
        #expect(try run([.init(courseID: "course-v1:edX+Unlisted+2026", mode: "verified", unitPrice: "30")]).get().total == 30,
                "a course with no price listed: the price sent, as before the price list")
        #expect(code(run([.init(courseID: "course-v1:edX+Two+2026", unitPrice: nil)])) == "price_missing", "two modes listed: name one")
        #expect(code(run([.init(courseID: "course-v1:edX+Two+2026", unitPrice: "10")])) == "price_missing")
        #expect(try run([.init(courseID: "course-v1:edX+Two+2026", mode: "professional", unitPrice: nil)]).get().total == 90)
        #expect(code(run([.init(courseID: course, mode: "verified", unitPrice: "1e3")])) == "invalid_order")
        if case .failure(let problem) = run([.init(courseID: course, mode: "verified", unitPrice: "39.00")]) {
            #expect(problem.message == "items[0]: course-v1:edX+DemoX+2026 (verified) is listed at 49.00 USD, not 39.00 (this token may not set prices)")
        }
    }

    @Test func theProfileIsTheOneNamedOrTheOnlyOne() {
        let one = CyberSourceProfile(profileID: "0000001", accessKey: "a", secretKey: Secret("s"))
        let two = CyberSourceProfile(profileID: "0000002", accessKey: "b", secretKey: Secret("t"))
        func id(_ result: Result<CyberSourceProfile, OrderRequestProblem>) -> String {
            switch result {
            case .success(let profile): profile.profileID
            case .failure(let problem): problem.message
            }
        }
        #expect(id(OrderRequestRules.profile(named: nil, in: ["0000001": one])) == "0000001")
        #expect(id(OrderRequestRules.profile(named: "0000002", in: ["0000001": one, "0000002": two])) == "0000002")
        #expect(id(OrderRequestRules.profile(named: nil, in: ["0000001": one, "0000002": two]))
                == "several CyberSource profiles are configured: name one with profile_id")
        #expect(id(OrderRequestRules.profile(named: nil, in: [:])) == "no CyberSource profile is configured (cybersource.profiles)")
        #expect(id(OrderRequestRules.profile(named: "9", in: ["0000001": one])) == "profile_id 9 is not under cybersource.profiles")
    }
}
