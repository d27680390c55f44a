import Foundation
import RegistrarCore
import TestSupport
import Testing

/// The coupon arithmetic and its checks, and what a coupon must hold to be made.
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

extension CouponRulesTests {
    @Test func applyingACouponKeepsEachLinesDiscountAndTheSumOfLinesIsTheTotal() throws {
        var random = SeededRandom(seed: 2121)
        for _ in 0..<2_000 {
            let items = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                OrderItem(courseID: Bool.random(using: &random) ? course : "course-v1:X+Y+1",
                          quantity: Int.random(in: 1...12, using: &random),
                          unitPrice: Money.format(Decimal(Int.random(in: 0...50_000, using: &random)) / 100))
            }
            let kind: Coupon.Kind = Bool.random(using: &random)
                ? .percent(Decimal(Int.random(in: 1...1000, using: &random)) / 10)
                : .amount(Decimal(Int.random(in: 1...90_000, using: &random)) / 100, currency: "EUR")
            let coupon = Coupon(code: "C", kind: kind, courses: [course])
            guard items.contains(where: { $0.courseID == course }) else { continue }
            let (priced, total) = try CouponRules.apply(coupon, code: "C", to: items, currency: "eur", day: "2026-12-03", uses: 0).get()
            #expect(priced.count == items.count)
            #expect(total == priced.reduce(Decimal(0)) { $0 + $1.net }, "the sum of the lines is the total")
            #expect(total >= 0)
            for (before, after) in zip(items, priced) {
                #expect(after.unitPrice == before.unitPrice, "the price before the discount is kept")
                #expect(after.net >= 0 && after.discountAmount <= before.gross)
                #expect(CouponRules.cents(after.discountAmount) == after.discountAmount)
                if before.courseID != course { #expect(after.discount == nil) }
            }
        }
    }

    @Test func aRefusedCouponChangesNothing() {
        let items = [OrderItem(courseID: course, quantity: 1, unitPrice: "49.00")]
        let result = CouponRules.apply(Coupon(code: "EUR5", kind: .amount(5, currency: "EUR")), code: "EUR5", to: items,
                                       currency: "USD", day: "2026-12-03", uses: 0)
        guard case .failure(let refusal) = result else { Issue.record("an amount in another currency was applied"); return }
        #expect(refusal == CouponRefusal("coupon_currency", "coupon EUR5 is in EUR, the order in USD"))
        #expect(throws: CouponRefusal.self) { try CouponRules.apply(nil, code: "NOPE", to: items, currency: "USD", day: "2026-12-03", uses: 0).get() }
    }

    @Test func aCouponIsMadeOnlyFromGoodOptions() throws {
        func make(_ code: String = "spring-20", percent: String? = "20", amount: String? = nil, currency: String? = nil,
                  courses: [String] = [], expires: String? = nil, maxUses: Int? = nil) -> Result<Coupon, CouponDefinitionProblem> {
            CouponDefinition.coupon(code: code, percent: percent, amount: amount, currency: currency, courses: courses,
                                    expires: expires, maxUses: maxUses)
        }
        func problem(_ result: Result<Coupon, CouponDefinitionProblem>) -> String? {
            if case .failure(let problem) = result { return problem.message }
            return nil
        }
        let made = try make(courses: ["course-v1:MITx+", course], expires: "2026-12-31", maxUses: 5).get()
        #expect(made == Coupon(code: "SPRING-20", kind: .percent(20), courses: ["course-v1:MITx+", course], expires: "2026-12-31", maxUses: 5))
        #expect(made.off == "20%")
        #expect(try make(percent: nil, amount: "10", currency: "usd").get().off == "10.00 USD")
        #expect(problem(make("no spaces")) == "code \"no spaces\" must be 1 to 32 letters, digits or -")
        #expect(problem(make(percent: "0")) != nil)
        #expect(problem(make(percent: "101")) != nil)
        #expect(problem(make(percent: "1e1")) != nil)
        #expect(problem(make(percent: nil)) == "say how much it takes off: percent or amount")
        #expect(problem(make(amount: "5", currency: "USD")) == "percent or amount, not both")
        #expect(problem(make(percent: nil, amount: "5")) == "an amount off needs its currency: a three-letter ISO 4217 code")
        #expect(problem(make(percent: nil, amount: "-5", currency: "USD")) != nil)
        #expect(problem(make(currency: "USD")) == "currency goes with amount, not percent")
        #expect(problem(make(courses: ["MITx"]))?.hasPrefix("course \"MITx\"") == true)
        #expect(problem(make(expires: "2026-02-30")) == "expires \"2026-02-30\" is not a day like 2026-12-31")
        #expect(problem(make(maxUses: 0)) == "max-uses must be at least 1")
    }

    @Test func aListedPriceIsFoundByCourseModeAndCurrency() {
        let prices = ListedPrices([ListedPrice(courseID: course, mode: "verified", currency: "usd", price: 49),
                                   ListedPrice(courseID: course, mode: "professional", currency: "USD", price: 99)])
        #expect(prices.lookup(courseID: course, mode: "verified", currency: "usd") == .listed(49, mode: "verified"))
        #expect(prices.lookup(courseID: course, mode: "audit", currency: "USD") == .unlisted(elsewhere: true))
        #expect(prices.lookup(courseID: course, mode: "verified", currency: "EUR") == .unlisted(elsewhere: true))
        #expect(prices.lookup(courseID: "course-v1:X+Y+1", mode: "verified", currency: "EUR") == .unlisted(elsewhere: false))
        #expect(prices.lookup(courseID: course, mode: nil, currency: "USD") == .ambiguous(modes: ["professional", "verified"]))
        #expect(ListedPrice.problem(courseID: course, mode: "verified", currency: "USD", price: "49.00") == nil)
        #expect(ListedPrice.problem(courseID: course, mode: "verified", currency: "USD", price: "-1")?.hasPrefix("price") == true)
        #expect(ListedPrice.problem(courseID: course, mode: "ver ified", currency: "USD", price: "1")?.hasPrefix("mode") == true)
        #expect(ListedPrice.problem(courseID: "x", mode: "verified", currency: "USD", price: "1")?.hasPrefix("course") == true)
        #expect(ListedPrice.problem(courseID: course, mode: "verified", currency: "DOLLARS", price: "1")?.hasPrefix("currency") == true)
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
