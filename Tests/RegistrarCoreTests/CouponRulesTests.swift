import Foundation
import RegistrarCore
import TestSupport
import Testing

/// The coupon arithmetic and its checks (issue 21's core; the store and API parts are not built yet).
@Suite struct CouponRulesTests {
    let course = "course-v1:MITx+6.00x+2026"

    @Test func aPercentIsTakenOffEachCoveredLineHalfUpToTheCent() {
        let coupon = Coupon(code: "SPRING20", kind: .percent(20), courses: ["course-v1:MITx+"])
        let lines = [CouponRules.Line(courseID: course, unitPrice: Decimal(string: "49.99")!, quantity: 1),
                     CouponRules.Line(courseID: "course-v1:HarvardX+CS50+2026", unitPrice: 100, quantity: 2),
                     CouponRules.Line(courseID: course, unitPrice: Decimal(string: "0.125")!, quantity: 2)]
        #expect(CouponRules.discounts(coupon, lines: lines) == [Decimal(string: "10.00")!, 0, Decimal(string: "0.05")!])
        #expect(CouponRules.discounts(Coupon(code: "ALL", kind: .percent(100)), lines: lines) == lines.map(\.gross))
        #expect(CouponRules.discounts(Coupon(code: "TEN", kind: .amount(10, currency: "USD")), lines: [
            CouponRules.Line(courseID: course, unitPrice: 4, quantity: 1), CouponRules.Line(courseID: course, unitPrice: 40, quantity: 1),
        ]) == [4, 10], "never below zero")
    }

    @Test func discountsNeverMakeANegativeTotalAndKeepTheSum() {
        var random = SeededRandom(seed: 21)
        for _ in 0..<2_000 {
            let lines = (0..<Int.random(in: 1...5, using: &random)).map { _ in
                CouponRules.Line(courseID: Bool.random(using: &random) ? course : "course-v1:X+Y+1",
                                 unitPrice: Decimal(Int.random(in: 0...100_000, using: &random)) / 100, quantity: Int.random(in: 1...20, using: &random))
            }
            let kind: Coupon.Kind = Bool.random(using: &random)
                ? .percent(Decimal(Int.random(in: 1...100, using: &random)))
                : .amount(Decimal(Int.random(in: 1...50_000, using: &random)) / 100, currency: "USD")
            let discounts = CouponRules.discounts(Coupon(code: "C", kind: kind, courses: [course]), lines: lines)
            for (line, discount) in zip(lines, discounts) {
                #expect(discount >= 0 && discount <= line.gross)
                #expect(CouponRules.cents(discount) == discount, "whole cents")
                if line.courseID != course { #expect(discount == 0) }
            }
        }
    }

    @Test func aCouponThatCannotBeUsedSaysWhy() {
        let lines = [CouponRules.Line(courseID: course, unitPrice: 49, quantity: 1)]
        func refusal(_ coupon: Coupon?, uses: Int = 0, currency: String = "USD") -> String? {
            CouponRules.check(coupon, code: "X", lines: lines, currency: currency, day: "2026-12-03", uses: uses)?.code
        }
        #expect(refusal(Coupon(code: "OK", kind: .percent(10))) == nil)
        #expect(refusal(nil) == "coupon_unknown")
        #expect(refusal(Coupon(code: "OFF", kind: .percent(10), active: false)) == "coupon_inactive")
        #expect(refusal(Coupon(code: "OLD", kind: .percent(10), expires: "2026-12-02")) == "coupon_expired")
        #expect(refusal(Coupon(code: "TODAY", kind: .percent(10), expires: "2026-12-03")) == nil, "the last day is included")
        #expect(refusal(Coupon(code: "ONE", kind: .percent(10), maxUses: 1), uses: 1) == "coupon_exhausted")
        #expect(refusal(Coupon(code: "HX", kind: .percent(10), courses: ["course-v1:HarvardX+"])) == "coupon_out_of_scope")
        #expect(refusal(Coupon(code: "EUR", kind: .amount(5, currency: "EUR"))) == "coupon_currency")
    }
}

@Suite struct PriceRulesTests {
    @Test func theListedPriceIsTakenAndAnotherIsRefusedUnlessTheTokenMaySetPrices() {
        func resolve(_ sent: Decimal?, _ listed: Decimal?, may: Bool = false) -> PriceRules.Verdict {
            PriceRules.resolve(sent: sent, listed: listed, maySetPrices: may, courseID: "course-v1:X+A+1", mode: "verified", currency: "USD")
        }
        #expect(resolve(nil, 49) == .price(49))
        #expect(resolve(49, 49) == .price(49))
        #expect(resolve(39, nil) == .price(39), "no listed price: the sent one, as before")
        #expect(resolve(39, 49, may: true) == .price(39))
        #expect(resolve(39, 49) == .mismatch("course-v1:X+A+1 (verified) is listed at 49.00 USD, not 39.00 (this token may not set prices)"))
        #expect(resolve(nil, nil) == .missing("no price is listed for course-v1:X+A+1 (verified) in USD: send unit_price"))
    }
}
