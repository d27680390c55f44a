import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `CatchUpLedger`: one walk per store at a time, listed orders taken exactly as webhook deliveries are, states
/// already taken left alone, and a cursor that only moves forward.
@Suite struct CatchUpLedgerConformance {
    let rules = WooIntakeRules(store: StoreConfig(id: "main", webhookSecret: Secret("s")), catalog: [
        CatalogEntry(store: "main", productID: 87, courseID: "course-v1:edX+DemoX+Demo_Course"),
    ])

    func t(_ text: String) -> WooModifiedTime { WooModifiedTime(text)! }

    func listed(_ id: Int, status: String = "processing", modified: String) -> CatchUpOrder {
        let order = WooOrder(id: id, status: status, billingEmail: "zoe@example.com", dateModifiedGMT: modified,
                             lineItems: [WooLineItem(id: id * 10, productID: 87)])
        let body = #"{"id":\#(id),"status":"\#(status)","date_modified_gmt":"\#(modified)"}"#
        return CatchUpOrder(delivery: NewDelivery(source: "catch-up", channel: "main", headers: ["x-registrar-catch-up": "page 1"],
                                                  body: Array(body.utf8), verdict: "", httpStatus: 200),
                            intake: WooIntake.prepared(.order(order), rules: rules))
    }

    @Test(arguments: Backends.all)
    func oneWalkPerStoreAtATimeUntilItsLeaseRunsOut(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let until = clock.now() + 300
            let first = try await store.beginCatchUp(store: "main", holder: "a", leaseUntil: until,
                                                     initialCursor: t("2026-12-01T00:00:00"))
            #expect(first?.cursor == t("2026-12-01T00:00:00"))
            #expect(first?.leaseHolder == "a")
            let refused = try await store.beginCatchUp(store: "main", holder: "b", leaseUntil: until, initialCursor: t("2026-12-02T00:00:00"))
            #expect(refused == nil)
            // Another store is its own.
            #expect(try await store.beginCatchUp(store: "other", holder: "b", leaseUntil: until, initialCursor: t("2026-12-02T00:00:00")) != nil)
            clock.advance(301)
            let taken = try await store.beginCatchUp(store: "main", holder: "b", leaseUntil: clock.now() + 300,
                                                     initialCursor: t("2026-12-02T00:00:00"))
            // The first cursor stays: the initial one is for a store seen for the first time.
            #expect(taken?.cursor == t("2026-12-01T00:00:00"))
            await #expect(throws: CatchUpLeaseLost.self) {
                try await store.recordCatchUpPage(store: "main", holder: "a", orders: [listed(1, modified: "2026-12-01T10:00:00")],
                                                  cursor: t("2026-12-01T10:00:00"), leaseUntil: clock.now() + 300)
            }
            #expect(try await store.deliveries(DeliveryFilter(limit: 10)).isEmpty)
            try await store.finishCatchUp(store: "main", holder: "b", result: CatchUpResult(
                succeeded: true, listed: 0, recovered: 0, ignoresModifiedAfter: false, webhooks: nil))
            #expect(try await store.beginCatchUp(store: "main", holder: "c", leaseUntil: clock.now() + 300,
                                                 initialCursor: t("2026-12-02T00:00:00")) != nil)
        }
    }

    @Test(arguments: Backends.all)
    func listedOrdersAreTakenAsWebhooksAreAndSeenStatesChangeNothing(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await store.beginCatchUp(store: "main", holder: "a", leaseUntil: Date() + 300, initialCursor: t("2026-12-01T00:00:00"))
            // Order 2 came by webhook already.
            let webhook = listed(2, modified: "2026-12-01T10:00:00")
            let delivered = try await store.recordWooCommerce(webhook.intake!, delivery: NewDelivery(
                source: "woocommerce", channel: "main", body: Array("{}".utf8), verdict: "", httpStatus: 200))
            #expect(delivered.jobs.count == 1)

            let page = [listed(1, modified: "2026-12-01T09:00:00"), listed(2, modified: "2026-12-01T10:00:00"),
                        listed(3, status: "pending", modified: "2026-12-01T11:00:00")]
            let outcomes = try await store.recordCatchUpPage(store: "main", holder: "a", orders: page,
                                                             cursor: t("2026-12-01T11:00:00"), leaseUntil: Date() + 300)
            #expect(outcomes.map(\.orderID) == [1, 2, 3])
            #expect(outcomes.map(\.alreadySeen) == [false, true, false])
            #expect(outcomes.map(\.recovered) == [true, false, false])
            #expect(outcomes[0].decision?.verdict == .accepted)
            #expect(outcomes[2].decision?.verdict == .ignored)
            #expect(outcomes[1].deliveryID == nil)

            let recorded = try await store.deliveries(DeliveryFilter(source: "catch-up", limit: 10))
            #expect(recorded.count == 2)
            #expect(Set(recorded.map(\.verdict)) == ["accepted", "ignored"])
            #expect(recorded.allSatisfy { $0.channel == "main" && $0.headers["x-registrar-catch-up"] == "page 1" })
            let accepted = try #require(recorded.first { $0.verdict == "accepted" })
            #expect(accepted.jobIDs == outcomes[0].jobs.map(\.id))
            #expect(String(decoding: accepted.body, as: UTF8.self).contains(#""id":1"#))

            // The same page again: every state is taken, nothing is recorded, nothing created.
            let again = try await store.recordCatchUpPage(store: "main", holder: "a", orders: page, cursor: nil, leaseUntil: Date() + 300)
            let allSeen = again.allSatisfy { $0.alreadySeen }
            #expect(allSeen)
            #expect(try await store.deliveries(DeliveryFilter(source: "catch-up", limit: 10)).count == 2)

            // A newer state of order 1, now refunded: decided, its unenroll created once, after the enroll.
            let refunded = try await store.recordCatchUpPage(store: "main", holder: "a",
                                                             orders: [listed(1, status: "refunded", modified: "2026-12-01T12:00:00")],
                                                             cursor: t("2026-12-01T12:00:00"), leaseUntil: Date() + 300)
            #expect(refunded[0].decision?.verdict == .accepted)
            #expect(refunded[0].jobs.count == 1 && refunded[0].jobs[0].created)
            #expect(refunded[0].jobs[0].id > outcomes[0].jobs[0].id)

            let state = try #require(try await store.catchUpStates().first { $0.store == "main" })
            #expect(state.cursor == t("2026-12-01T12:00:00"))
            #expect(state.recoveredTotal == 2)
        }
    }

    @Test(arguments: Backends.all)
    func theCursorOnlyMovesForward(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await store.beginCatchUp(store: "main", holder: "a", leaseUntil: Date() + 300, initialCursor: t("2026-12-01T00:00:00"))
            func cursor() async throws -> WooModifiedTime? { try await store.catchUpStates().first?.cursor }
            _ = try await store.recordCatchUpPage(store: "main", holder: "a", orders: [], cursor: t("2026-12-01T05:00:00"), leaseUntil: Date() + 300)
            #expect(try await cursor() == t("2026-12-01T05:00:00"))
            _ = try await store.recordCatchUpPage(store: "main", holder: "a", orders: [], cursor: t("2026-12-01T04:00:00"), leaseUntil: Date() + 300)
            #expect(try await cursor() == t("2026-12-01T05:00:00"))
            _ = try await store.recordCatchUpPage(store: "main", holder: "a", orders: [], cursor: nil, leaseUntil: Date() + 300)
            #expect(try await cursor() == t("2026-12-01T05:00:00"))
        }
    }

    @Test(arguments: Backends.all)
    func aPreviewWritesNothingAndNamesWhatWouldBeCreated(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await store.recordWooCommerce(listed(2, modified: "2026-12-01T10:00:00").intake!, delivery: NewDelivery(
                source: "woocommerce", channel: "main", body: [], verdict: "", httpStatus: 200))
            let preview = try await store.previewCatchUp([
                listed(1, modified: "2026-12-01T09:00:00"),
                listed(2, modified: "2026-12-01T10:00:00"),
                // A newer state of order 2 whose job exists: nothing new.
                listed(2, status: "completed", modified: "2026-12-01T10:30:00"),
            ])
            #expect(preview.map(\.alreadySeen) == [false, true, false])
            #expect(preview[0].jobs.map(\.created) == [true])
            #expect(preview[2].jobs.map(\.created) == [false])
            #expect(try await store.deliveries(DeliveryFilter(limit: 10)).count == 1)
            #expect(try await store.stats().counts.reduce(0) { $0 + $1.count } == 1)
            #expect(try await store.catchUpStates().isEmpty)
        }
    }

    @Test(arguments: Backends.all)
    func aFinishedWalkIsKeptWithItsResultAndTheLastWebhookIsFound(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            #expect(try await store.lastWebhook(store: "main") == nil)
            try await store.recordDelivery(NewDelivery(source: "woocommerce", channel: "main", body: [], verdict: "ping", httpStatus: 200))
            let pingAt = clock.now()
            clock.advance(60)
            try await store.recordDelivery(NewDelivery(source: "woocommerce", channel: "main", body: [], verdict: "rejected", httpStatus: 401))
            try await store.recordDelivery(NewDelivery(source: "woocommerce", channel: "other", body: [], verdict: "ping", httpStatus: 200))
            try await store.recordDelivery(NewDelivery(source: "catch-up", channel: "main", body: [], verdict: "accepted", httpStatus: 200))
            #expect(try await store.lastWebhook(store: "main") == pingAt)

            _ = try await store.beginCatchUp(store: "main", holder: "a", leaseUntil: clock.now() + 300, initialCursor: t("2026-12-01T00:00:00"))
            let health = WooWebhookHealth(webhooks: [WooWebhookStatus(id: 4, name: "R", status: "disabled", topic: "order.updated",
                                                                      deliveryURL: "https://r/webhooks/woocommerce/main")],
                                          problems: ["webhook 4 is disabled"])
            try await store.finishCatchUp(store: "main", holder: "a", result: CatchUpResult(
                succeeded: false, error: "the store answered 503", listed: 7, recovered: 2, ignoresModifiedAfter: true, webhooks: health))
            var state = try #require(try await store.catchUpStates().first)
            #expect(state.leaseHolder == nil && state.lastResult == "failed" && state.lastError == "the store answered 503")
            #expect(state.lastListed == 7 && state.lastRecovered == 2 && state.ignoresModifiedAfter)
            #expect(state.webhooks == health && state.webhooksCheckedAt == clock.now())
            #expect(state.lastSucceededAt == nil && state.lastFinishedAt == clock.now())

            clock.advance(60)
            _ = try await store.beginCatchUp(store: "main", holder: "b", leaseUntil: clock.now() + 300, initialCursor: t("2026-12-01T00:00:00"))
            try await store.finishCatchUp(store: "main", holder: "b", result: CatchUpResult(
                succeeded: true, listed: 1, recovered: 0, ignoresModifiedAfter: false, webhooks: nil))
            state = try #require(try await store.catchUpStates().first)
            #expect(state.lastResult == "succeeded" && state.lastError == nil && state.lastSucceededAt == clock.now())
            // Webhooks unread this time: the last reading stays.
            #expect(state.webhooks == health && state.webhooksCheckedAt == clock.now() - 60)
        }
    }
}
