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
        #expect(refusal(check(lines: [.init(courseID: "course-v1:a+b+c", unitPrice: "0.00")])) == "the order's total is zero: nothing to pay")
        #expect(refusal(check(reference: "with space"))?.contains("must be 1 to 64 letters") == true)
        #expect(refusal(check(reference: String(repeating: "A", count: 65))) != nil)
        #expect(refusal(check(reference: "")) != nil)
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
