import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `OrderBook`: orders registered, paid by callbacks in one operation with their jobs, reviewed by operators.
@Suite struct OrderBookConformance {
    func newOrder(_ reference: String, items: [OrderItem]? = nil) -> NewOrder {
        let items = items ?? [OrderItem(courseID: "course-v1:edX+DemoX+2026", mode: "verified", quantity: 1, unitPrice: "99.00")]
        return NewOrder(reference: reference, email: "sam@example.com", currency: "USD",
                        total: items.reduce(Decimal(0)) { $0 + (Money.parse($1.unitPrice) ?? 0) * Decimal($1.quantity) },
                        items: OrderFulfilment.plan(items), profileID: "p1")
    }

    func callback(_ reference: String, _ decision: CallbackDecision = .accept, transaction: String = "T1",
                  amount: Decimal = 99) -> VerifiedCallback {
        VerifiedCallback(profileID: "p1", referenceNumber: reference, transactionID: transaction, currency: "USD",
                         decision: decision, requestAmount: amount, authAmount: decision == .accept ? amount : nil,
                         signedDateTime: Date())
    }

    func delivery() -> NewDelivery {
        NewDelivery(source: "cybersource", body: Array("decision=ACCEPT".utf8), verdict: "accepted", httpStatus: 200)
    }

    @Test(arguments: Backends.all)
    func anOrderIsRegisteredOnceAndReadBack(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            try await store.createOrder(newOrder("RG-1"))
            await #expect(throws: OrderError.referenceTaken("RG-1")) { try await store.createOrder(newOrder("RG-1")) }
            let order = try #require(try await store.order(reference: "RG-1"))
            #expect(order.status == .pending && order.total == "99.00" && order.currency == "USD" && order.email == "sam@example.com")
            #expect(order.items.map(\.fulfilment) == ["enroll"] && order.createdAt == clock.now())
            #expect(try await store.order(reference: "rg-1") == nil)
            #expect(try await store.orders(attentionOnly: false).map(\.reference) == ["RG-1"])
            #expect(try await store.orders(attentionOnly: true).isEmpty)
        }
    }

    @Test(arguments: Backends.all)
    func anAcceptPaysTheOrderAndEnqueuesItsEnrollmentsOnce(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await store.createOrder(newOrder("RG-2", items: [
                OrderItem(courseID: "course-v1:edX+DemoX+2026", mode: "verified", quantity: 1, unitPrice: "99.00"),
                OrderItem(courseID: "course-v1:edX+DemoX+Demo_Course", quantity: 3, unitPrice: "10.00"),
            ]))
            let paid = try await store.applyPayment(callback("RG-2", amount: 129), delivery: delivery())
            #expect(paid.decision?.outcome == .paid && !paid.unknownOrder)
            // The multi-seat item becomes codes, mailed to the buyer: only the single seat is enrolled.
            #expect(paid.jobs.count == 1 && paid.jobs.allSatisfy(\.created))
            let codes = try await store.codes(CodeFilter(source: "order", sourceReference: "RG-2:1"))
            #expect(codes.count == 3 && codes.allSatisfy { $0.courseID == "course-v1:edX+DemoX+Demo_Course" && $0.state == .active })
            let order = try #require(try await store.order(reference: "RG-2"))
            #expect(order.status == .paid && order.transactionID == "T1")
            #expect(try await store.delivery(id: paid.deliveryID)?.jobIDs == paid.jobs.map(\.id))
            #expect(try await store.payments(ofOrder: "RG-2").map(\.outcome) == ["paid"])

            // The same transaction again changes nothing; a second one is a duplicate payment to refund.
            let again = try await store.applyPayment(callback("RG-2", amount: 129), delivery: delivery())
            #expect(again.decision?.outcome == .duplicateCallback && again.jobs.isEmpty)
            let second = try await store.applyPayment(callback("RG-2", transaction: "T2", amount: 129), delivery: delivery())
            #expect(second.decision?.outcome == .duplicatePayment)
            #expect(try await store.order(reference: "RG-2")?.attention == .duplicatePayment)
            #expect(try await store.orders(attentionOnly: true).map(\.reference) == ["RG-2"])
            #expect(try await store.payments(ofOrder: "RG-2").map(\.transactionID) == ["T1", "T2"])
            #expect(try await store.jobs(ofOrder: "RG-2").map(\.kind) == [.enroll, .mail])
            #expect(try await store.codes(CodeFilter(source: "order", sourceReference: "RG-2:1")).count == 3)
        }
    }

    @Test(arguments: Backends.all)
    func aCallbackForAnUnknownOrderIsRecordedAsRejected(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let applied = try await store.applyPayment(callback("NOPE"), delivery: delivery())
            #expect(applied.unknownOrder && applied.decision == nil && applied.jobs.isEmpty)
            let stored = try #require(try await store.delivery(id: applied.deliveryID))
            #expect(stored.verdict == "rejected" && stored.httpStatus == 404 && stored.reason == "unknown order NOPE")
        }
    }

    @Test(arguments: Backends.all)
    func aReviewedOrderIsPaidOrRejectedByAnOperatorOnce(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await store.createOrder(newOrder("RG-3"))
            try await store.createOrder(newOrder("RG-4"))
            for reference in ["RG-3", "RG-4"] {
                let held = try await store.applyPayment(callback(reference, .review, transaction: "R-\(reference)"),
                                                        delivery: delivery())
                #expect(held.decision?.outcome == .review && held.jobs.isEmpty)
            }
            #expect(Set(try await store.orders(attentionOnly: true).map(\.reference)) == ["RG-3", "RG-4"])
            let accepted = try await store.review(reference: "RG-3", accept: true, actor: "cli:fin")
            #expect(accepted.count == 1 && accepted[0].created)
            #expect(try await store.order(reference: "RG-3")?.status == .paid)
            #expect(try await store.order(reference: "RG-3")?.attention == nil)
            #expect(try await store.review(reference: "RG-4", accept: false, actor: "cli:fin").isEmpty)
            #expect(try await store.order(reference: "RG-4")?.status == .rejected)
            #expect(try await store.jobs(ofOrder: "RG-4").isEmpty)
            await #expect(throws: OrderError.notInReview("RG-3", .paid)) {
                try await store.review(reference: "RG-3", accept: true, actor: "cli:fin")
            }
            await #expect(throws: OrderError.notFound("RG-9")) {
                try await store.review(reference: "RG-9", accept: true, actor: "cli:fin")
            }
        }
    }

    /// An order's jobs are its own: `_` and `%` are no wildcards, case counts, and a reference that is another's
    /// prefix does not see the other's jobs.
    @Test(arguments: Backends.all)
    func anOrdersJobsAreExactlyItsOwn(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let references = ["AB1", "a_1", "A_1", "A%1", "A", "A_10", "_______________", "RG-0123456789AB"]
            for reference in references {
                let keys = (0..<2).map { OrderFulfilment.keyPrefix(reference: reference) + "\($0):enroll" }
                _ = try await store.enqueue(keys.map { job($0) })
            }
            for reference in references {
                let keys = try await store.jobs(ofOrder: reference).map(\.dedupeKey)
                #expect(keys == ["order:\(reference):0:enroll", "order:\(reference):1:enroll"], "\(reference): \(keys)")
            }
            #expect(try await store.jobs(ofOrder: "ZZZ").isEmpty)
        }
    }
}

/// `TokenStore`: only a hash is kept; names are unique among live tokens.
@Suite struct TokenStoreConformance {
    @Test(arguments: Backends.all)
    func tokensAuthenticateUntilRevoked(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let ops = try await store.createToken(name: "alice", role: .ops)
            let shop = try await store.createToken(name: "shop", role: .storefront)
            #expect(ops.hasPrefix("rgt_") && ops.count > 40 && ops != shop)
            #expect(try await store.authenticate(bearer: ops) == APIToken(name: "alice", role: .ops, createdAt: clock.now(),
                                                                           revokedAt: nil))
            #expect(try await store.authenticate(bearer: shop)?.role == .storefront)
            #expect(try await store.authenticate(bearer: ops + "x") == nil)
            await #expect(throws: TokenError.nameTaken("alice")) { try await store.createToken(name: "alice", role: .ops) }

            clock.advance(5)
            try await store.revokeToken(name: "alice")
            #expect(try await store.authenticate(bearer: ops) == nil)
            await #expect(throws: TokenError.notFound("alice")) { try await store.revokeToken(name: "alice") }
            #expect(try await store.tokens().map(\.name) == ["alice", "shop"])
            #expect(try await store.tokens().first?.revokedAt == clock.now())

            // A revoked name may be used again; the old value stays dead.
            let again = try await store.createToken(name: "alice", role: .financeAdmin)
            #expect(try await store.authenticate(bearer: again)?.role == .financeAdmin)
            #expect(try await store.authenticate(bearer: ops) == nil)
        }
    }
}

/// `LearnerCache`: usernames by email.
@Suite struct LearnerCacheConformance {
    @Test(arguments: Backends.all)
    func usernamesAreCachedReplacedAndForgotten(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            #expect(try await store.cachedUsername(email: "ann@example.com") == nil)
            try await store.cacheUsername("ann", email: "ann@example.com")
            try await store.cacheUsername("bob", email: "bob@example.com")
            #expect(try await store.cachedUsername(email: "ann@example.com") == "ann")
            try await store.cacheUsername("ann2", email: "ann@example.com")
            #expect(try await store.cachedUsername(email: "ann@example.com") == "ann2")
            try await store.forgetUsername(email: "ann@example.com")
            #expect(try await store.cachedUsername(email: "ann@example.com") == nil)
            #expect(try await store.cachedUsername(email: "bob@example.com") == "bob")
        }
    }
}

/// `StoreHealth`: the probe commits, and the writes are counted.
@Suite struct StoreHealthConformance {
    @Test(arguments: Backends.all)
    func theProbeCommitsAWrite(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let before = store.writeStats
            try await store.probeWritable()
            try await store.probeWritable()
            let after = store.writeStats
            #expect(after.writes - before.writes == 2 && after.transactions > before.transactions)
        }
    }
}
