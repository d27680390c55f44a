import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `PriceList` and `CouponBook`, and what `OrderBook` does with a coupon: a use reserved in the order's commit,
/// kept when paid, released when declined or lapsed; a zero-total order paid at once.
@Suite struct CouponConformance {
    let course = "course-v1:edX+DemoX+2026"

    func newOrder(_ reference: String, coupon: String?, price: String = "50.00", quantity: Int = 1) -> NewOrder {
        let items = [OrderItem(courseID: course, mode: "verified", quantity: quantity, unitPrice: price)]
        return NewOrder(reference: reference, email: "sam@example.com", currency: "USD",
                        total: (Money.parse(price) ?? 0) * Decimal(quantity), items: OrderFulfilment.plan(items), profileID: "p1",
                        coupon: coupon, couponHold: 30 * 60)
    }

    func callback(_ reference: String, _ decision: CallbackDecision, amount: Decimal, transaction: String = "T1") -> VerifiedCallback {
        VerifiedCallback(profileID: "p1", referenceNumber: reference, transactionID: transaction, currency: "USD",
                         decision: decision, requestAmount: amount, authAmount: decision == .accept ? amount : nil, signedDateTime: Date())
    }

    func delivery() -> NewDelivery {
        NewDelivery(source: "cybersource", body: Array("decision=X".utf8), verdict: "accepted", httpStatus: 200)
    }

    func refusal(_ operation: () async throws -> Void) async -> String? {
        do { try await operation() } catch OrderError.coupon(let refusal) { return refusal.code } catch { return "\(error)" }
        return nil
    }

    @Test(arguments: Backends.all)
    func pricesAreListedChangedAndRemoved(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            #expect(try await store.setPrice(ListedPrice(courseID: course, mode: "verified", currency: "usd", price: 49), actor: "t") == nil)
            let before = try await store.setPrice(ListedPrice(courseID: course, mode: "verified", currency: "USD", price: 59), actor: "t")
            #expect(before?.price == 49)
            _ = try await store.setPrice(ListedPrice(courseID: course, mode: "verified", currency: "EUR", price: 55), actor: "t")
            _ = try await store.setPrice(ListedPrice(courseID: "course-v1:X+Y+1", mode: "audit", currency: "USD", price: 0), actor: "t")
            #expect(try await store.prices(courseIDs: [course]).map(\.currency) == ["EUR", "USD"])
            #expect(try await store.prices(courseIDs: nil).count == 3)
            #expect(try await store.prices(courseIDs: [course]).last?.price == 59)
            #expect(try await store.removePrices(courseID: course, mode: "verified", currency: "eur", actor: "t").map(\.currency) == ["EUR"])
            #expect(try await store.removePrices(courseID: course, mode: "verified", currency: "EUR", actor: "t").isEmpty)
            #expect(try await store.removePrices(courseID: course, mode: "verified", currency: nil, actor: "t").count == 1)
            #expect(try await store.prices(courseIDs: [course]).isEmpty)
        }
    }

    @Test(arguments: Backends.all)
    func couponsAreMadeOnceAndDeactivated(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let coupon = Coupon(code: "SPRING20", kind: .percent(20), courses: ["course-v1:edX+"], expires: "2027-01-31", maxUses: 3)
            try await store.createCoupon(coupon, description: "spring", actor: "t")
            await #expect(throws: CouponError.codeTaken("SPRING20")) { try await store.createCoupon(coupon, description: nil, actor: "t") }
            try await store.createCoupon(Coupon(code: "TEN", kind: .amount(Decimal(string: "10.50")!, currency: "USD")), description: nil, actor: "t")
            let found = try #require(try await store.coupon(code: "spring20"))
            #expect(found.coupon == coupon && found.description == "spring" && found.uses == 0 && found.createdBy == "t")
            #expect(try await store.coupon(code: "TEN")?.coupon.kind == .amount(Decimal(string: "10.50")!, currency: "USD"))
            #expect(Set(try await store.coupons().map(\.coupon.code)) == ["SPRING20", "TEN"])
            #expect(try await store.deactivateCoupon(code: "TEN", actor: "t").coupon.active == false)
            await #expect(throws: CouponError.notFound("NOPE")) { _ = try await store.deactivateCoupon(code: "NOPE", actor: "t") }
            #expect(await refusal { try await store.createOrder(newOrder("RG-T", coupon: "ten")) } == "coupon_inactive")
            #expect(try await store.order(reference: "RG-T") == nil, "a refused coupon stores no order")
        }
    }

    @Test(arguments: Backends.all)
    func anOrderKeepsItsListPriceDiscountAndCouponAndHoldsAUse(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await store.createCoupon(Coupon(code: "SPRING20", kind: .percent(20), maxUses: 2), description: nil, actor: "t")
            let order = try await store.createOrder(newOrder("RG-1", coupon: "spring20", price: "49.99", quantity: 3))
            #expect(order.total == "119.98" && order.coupon == "SPRING20" && order.status == .pending)
            #expect(order.items[0].unitPrice == "49.99" && order.items[0].discount == "29.99")
            #expect(try await store.order(reference: "RG-1") == order)
            #expect(try await store.coupon(code: "SPRING20")?.held == 1)
            // Paid: the use is kept, and the sale keeps list price and discount.
            let paid = try await store.applyPayment(callback("RG-1", .accept, amount: Decimal(string: "119.98")!), delivery: delivery())
            #expect(paid.decision?.outcome == .paid)
            let record = try #require(try await store.coupon(code: "SPRING20"))
            #expect(record.used == 1 && record.held == 0)
            let sale = try #require(try await store.saleLines(courseID: course).first)
            #expect(sale.gross == Decimal(string: "149.97") && sale.discount == Decimal(string: "29.99") && sale.net == Decimal(string: "119.98"))
        }
    }

    @Test(arguments: Backends.all)
    func aDeclinedOrALapsedOrderGivesItsUseBackAndAPaidOneKeepsItsDiscount(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            try await store.createCoupon(Coupon(code: "ONCE", kind: .amount(10, currency: "USD"), maxUses: 1), description: nil, actor: "t")
            try await store.createOrder(newOrder("RG-1", coupon: "ONCE"))
            #expect(await refusal { try await store.createOrder(newOrder("RG-2", coupon: "ONCE")) } == "coupon_exhausted")
            _ = try await store.applyPayment(callback("RG-1", .decline, amount: 40), delivery: delivery())
            #expect(try await store.coupon(code: "ONCE")?.uses == 0, "declined: given back at once")

            try await store.createOrder(newOrder("RG-3", coupon: "ONCE"))
            clock.advance(30 * 60 - 1)
            #expect(await refusal { try await store.createOrder(newOrder("RG-4", coupon: "ONCE")) } == "coupon_exhausted")
            clock.advance(2)
            #expect(try await store.coupon(code: "ONCE")?.uses == 0, "left unpaid past the hold")
            try await store.createOrder(newOrder("RG-5", coupon: "ONCE"))

            // RG-3's buyer pays late anyway: they keep the discount they were shown.
            let late = try await store.applyPayment(callback("RG-3", .accept, amount: 40), delivery: delivery())
            #expect(late.decision?.outcome == .paid)
            #expect(try await store.coupon(code: "ONCE")?.used == 1)
            #expect(try await store.order(reference: "RG-3")?.total == "40.00")
        }
    }

    @Test(arguments: Backends.all)
    func aReviewKeepsTheUseAndARejectionGivesItBack(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await store.createCoupon(Coupon(code: "ONCE", kind: .percent(50), maxUses: 1), description: nil, actor: "t")
            try await store.createOrder(newOrder("RG-1", coupon: "ONCE"))
            _ = try await store.applyPayment(callback("RG-1", .review, amount: 25), delivery: delivery())
            #expect(try await store.coupon(code: "ONCE")?.used == 1)
            _ = try await store.review(reference: "RG-1", accept: false, actor: "ops")
            #expect(try await store.coupon(code: "ONCE")?.uses == 0)
        }
    }

    @Test(arguments: Backends.all)
    func twentyOrdersRacingForTheLastUseGetItOnce(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await store.createCoupon(Coupon(code: "LAST", kind: .percent(20), maxUses: 1), description: nil, actor: "t")
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        await refusal { try await store.createOrder(newOrder("RG-\(index)", coupon: "LAST")) } ?? "created"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "created" }.count == 1)
            #expect(outcomes.filter { $0 == "coupon_exhausted" }.count == 19)
            #expect(try await store.orders(attentionOnly: false).count == 1)
        }
    }

    @Test(arguments: Backends.all)
    func anOrderWithNothingToPayIsPaidAtOnceAndFulfilled(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await store.createCoupon(Coupon(code: "FREE", kind: .percent(100)), description: nil, actor: "t")
            let order = try await store.createOrder(NewOrder(
                reference: "RG-F", email: "sam@example.com", currency: "USD", total: 130,
                items: OrderFulfilment.plan([OrderItem(courseID: course, mode: "verified", quantity: 1, unitPrice: "100.00"),
                                             OrderItem(courseID: "course-v1:X+Y+1", quantity: 3, unitPrice: "10.00")]),
                profileID: "p1", coupon: "FREE"))
            #expect(order.status == .paid && order.total == "0.00" && order.transactionID == nil)
            #expect(try await store.jobs(ofOrder: "RG-F").filter { $0.kind == .enroll }.count == 1)
            #expect(try await store.codes(CodeFilter(source: "order", sourceReference: "RG-F:1")).count == 3)
            #expect(try await store.coupon(code: "FREE")?.used == 1)
            let sales = try await store.saleLines(courseID: nil)
            #expect(sales.map(\.net) == [0, 0] && sales.map(\.gross) == [100, 30])
            // A CyberSource callback for it later (someone pays anyway) is money taken beyond the order: to refund.
            let paid = try await store.applyPayment(callback("RG-F", .accept, amount: 0), delivery: delivery())
            #expect(paid.decision?.outcome == .duplicatePayment)
        }
    }
}
