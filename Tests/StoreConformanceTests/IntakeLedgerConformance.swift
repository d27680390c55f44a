import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `IntakeLedger` and `DeliveryLog`: every delivery kept, and an order fact decided against the order's memory
/// and recorded with its jobs in one operation.
@Suite struct IntakeLedgerConformance {
    let rules = WooIntakeRules(store: StoreConfig(id: "main", webhookSecret: Secret("s")), catalog: [
        CatalogEntry(store: "main", productID: 87, courseID: "course-v1:edX+DemoX+Demo_Course"),
        CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+2026", mode: "audit"),
    ])

    func order(_ id: Int, status: String = "processing", modified: String = "2026-11-21T10:15:02") -> WooPayload {
        .order(WooOrder(id: id, status: status, billingEmail: "zoe@example.com", dateModifiedGMT: modified,
                        lineItems: [WooLineItem(id: 311, productID: 87), WooLineItem(id: 312, productID: 93)]))
    }

    func delivery(_ text: String = "{}") -> NewDelivery {
        NewDelivery(source: "woocommerce", channel: "main", headers: ["x-wc-webhook-topic": "order.updated"],
                    body: Array(text.utf8), verdict: "", httpStatus: 200)
    }

    @Test(arguments: Backends.all)
    func anOrdersMemoryFindsItsOwnJobsLiveOrPrunedAndNothingOfItsNeighbours(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            _ = try await store.enqueue([
                job(WooKeys.enroll(store: "a", order: 1, line: 5)),
                job(WooKeys.unenroll(store: "a", order: 1, line: 6)),
                job(WooKeys.refund(store: "a", order: 1, refund: 9)),
                // Keys that share "woo:a:1:" or sort right next to it, and must not count for store a, order 1:
                job(WooKeys.enroll(store: "a:1", order: 7, line: 7)),
                job(WooKeys.enroll(store: "a", order: 10, line: 7)),
                job(WooKeys.enroll(store: "a", order: 100, line: 8)),
                job(WooKeys.refund(store: "a", order: 11, refund: 9)),
                job("woo:a:1;"), job("woo:a:1"),
            ])
            // The refund job succeeds and is pruned: its tombstone must still count.
            for claimed in try await store.claim(owner: "w", limit: 20) {
                try await store.finish(claimed, outcome: claimed.job.dedupeKey == WooKeys.refund(store: "a", order: 1, refund: 9)
                                       ? .success() : .transient(reason: "later"))
            }
            clock.advance(3600)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(60)) == 1)

            let found = try await store.wooOrderMemory(WooOrderKeys(store: "a", orderID: 1, lineIDs: [5, 6, 7, 8], refundIDs: [9, 10]))
            #expect(found.linesWithEnroll == [5])
            #expect(found.linesWithUnenroll == [6])
            #expect(found.refundsSeen == [9])
            #expect(found.newestModifiedGMT == nil)

            let other = try await store.wooOrderMemory(WooOrderKeys(store: "a:1", orderID: 7, lineIDs: [7, 5], refundIDs: [9]))
            #expect(other.linesWithEnroll == [7] && other.linesWithUnenroll.isEmpty && other.refundsSeen.isEmpty)
            let fresh = try await store.wooOrderMemory(WooOrderKeys(store: "a", orderID: 2, lineIDs: [5], refundIDs: [9]))
            #expect(fresh == WooOrderMemory())
        }
    }

    @Test(arguments: Backends.all)
    func aDeliveryIsDecidedAgainstWhatTheStoreKnowsAndListsItsJobs(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await store.enqueue([job("unrelated")])
            let first = try await store.recordWooCommerce(.prepared(order(727), rules: rules), delivery: delivery("first"))
            #expect(first.decision.verdict == .accepted && first.jobs.count == 2 && first.jobs.allSatisfy(\.created))
            let firstID = try #require(first.deliveryID)
            let stored = try #require(try await store.delivery(id: firstID))
            #expect(stored.jobIDs == first.jobs.map(\.id) && stored.verdict == "accepted" && stored.bodyText == "first")
            #expect(stored.reason?.contains("2 enrollments") == true)
            #expect(try await store.wooOrderMemory(WooOrderKeys(store: "main", orderID: 727, lineIDs: [311, 312, 313], refundIDs: []))
                    == WooOrderMemory(newestModifiedGMT: "2026-11-21T10:15:02", linesWithEnroll: [311, 312]))

            // The same order again: its jobs are found by their keys, and the delivery lists them.
            let again = try await store.recordWooCommerce(.prepared(order(727), rules: rules), delivery: delivery("again"))
            #expect(again.jobs.map(\.id) == first.jobs.map(\.id) && !again.jobs.contains(where: \.created))
            #expect(try await store.delivery(id: try #require(again.deliveryID))?.jobIDs == first.jobs.map(\.id))

            // An older state of the order is stale: recorded, nothing else changes.
            let stale = try await store.recordWooCommerce(.prepared(order(727, status: "cancelled", modified: "2026-11-21T09:00:00"),
                                                                    rules: rules), delivery: delivery("stale"))
            #expect(stale.decision.verdict == .stale && stale.jobs.isEmpty)
            #expect(try await store.delivery(id: try #require(stale.deliveryID))?.verdict == "stale")
            #expect(try await store.wooOrderMemory(WooOrderKeys(store: "main", orderID: 727, lineIDs: [], refundIDs: []))
                .newestModifiedGMT == "2026-11-21T10:15:02")

            // A refund of the whole order undoes the enrolled lines.
            let refunded = try await store.recordWooCommerce(.prepared(order(727, status: "refunded", modified: "2026-11-22T08:00:00"),
                                                                       rules: rules), delivery: delivery("refunded"))
            #expect(refunded.jobs.count == 2 && refunded.jobs.allSatisfy(\.created))
            #expect(try await store.jobs(JobFilter(kind: .unenroll)).count == 2)
        }
    }

    /// Each delivery is one write in the store's statistics (what `serve`'s metrics and the intake benchmark count),
    /// whichever way the backend took it: a known order's delivery that first tried the new-order path included.
    @Test(arguments: Backends.all)
    func eachDeliveryIsCountedAsOneWrite(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let before = store.writeStats
            _ = try await store.recordWooCommerce(.prepared(order(727), rules: rules), delivery: delivery("new"))
            _ = try await store.recordWooCommerce(.prepared(order(727, modified: "2026-11-22T00:00:00"), rules: rules),
                                                  delivery: delivery("known"))
            let after = store.writeStats
            #expect(after.writes - before.writes == 2)
            #expect((1...2).contains(after.transactions - before.transactions))
        }
    }

    /// A speculation made before the write is used only when the order is indeed new.
    @Test(arguments: Backends.all)
    func aSpeculationIsIgnoredWhenTheOrderIsKnown(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            _ = try await store.recordWooCommerce(.prepared(order(9, status: "refunded"), rules: rules), delivery: delivery())
            _ = try await store.recordWooCommerce(.prepared(order(9, modified: "2026-11-22T00:00:00"), rules: rules),
                                                  delivery: delivery())
            // Known now: a later refunded state unenrolls what the paid state enrolled, whatever was speculated.
            var wrong = WooIntake.prepared(order(9, status: "refunded", modified: "2026-11-23T00:00:00"), rules: rules)
            wrong.speculation = WooDecision(verdict: .ignored, reason: "speculated")
            let outcome = try await store.recordWooCommerce(wrong, delivery: delivery())
            #expect(outcome.decision.verdict == .accepted && outcome.jobs.count == 2)
        }
    }

    @Test(arguments: Backends.all)
    func deliveriesOfOneOrderRacingAreDecidedInTurn(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let outcomes = try await withThrowingTaskGroup(of: WooIntakeOutcome.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await store.recordWooCommerce(.prepared(order(500), rules: rules), delivery: delivery("d\(index)"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.flatMap(\.jobs).filter(\.created).count == 2)
            #expect(Set(outcomes.map { $0.jobs.map(\.id) }).count == 1)
            #expect(try await store.jobs(JobFilter(limit: 100)).count == 2)
            #expect(try await store.deliveries(DeliveryFilter(limit: 100)).count == 40)
        }
    }

    @Test(arguments: Backends.all)
    func reconcilingLinksJobsToTheAskingDeliveryAndRecordsNone(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let asking = try await store.recordDelivery(NewDelivery(source: "woocommerce", channel: "main", body: [],
                                                                   verdict: "accepted", httpStatus: 200))
            let outcome = try await store.reconcileWooCommerce(WooIntake(payload: order(600), rules: rules, deliveryKey: "job-1"),
                                                               deliveryID: asking)
            #expect(outcome.deliveryID == asking && outcome.jobs.count == 2)
            #expect(try await store.job(id: outcome.jobs[0].id)?.deliveryID == asking)
            #expect(try await store.deliveries(DeliveryFilter()).count == 1)
            #expect(try await store.wooOrderMemory(WooOrderKeys(store: "main", orderID: 600, lineIDs: [311], refundIDs: []))
                    .linesWithEnroll == [311])
        }
    }

    @Test(arguments: Backends.all)
    func theLedgerKeepsEveryDeliveryAsReceived(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let binary: [UInt8] = [0, 255, 13, 10, 0x7B, 0xC3, 0x28]
            let rejected = try await store.recordDelivery(NewDelivery(
                source: "woocommerce", channel: "main", headers: ["x-wc-webhook-topic": "order.updated", "user-agent": "WooCommerce"],
                body: binary, verdict: "rejected", httpStatus: 401, reason: "bad signature"))
            clock.advance(1)
            let ping = try await store.recordDelivery(NewDelivery(source: "woocommerce", channel: "other", body: Array("webhook_id=3".utf8),
                                                                  verdict: "ping", httpStatus: 200))
            clock.advance(1)
            let callback = try await store.recordDelivery(NewDelivery(source: "cybersource", body: [], verdict: "rejected",
                                                                      httpStatus: 400))
            let stored = try #require(try await store.delivery(id: rejected))
            #expect(stored.body == binary && stored.httpStatus == 401 && stored.reason == "bad signature")
            #expect(stored.headers == ["x-wc-webhook-topic": "order.updated", "user-agent": "WooCommerce"])
            #expect(stored.source == "woocommerce" && stored.channel == "main" && stored.jobIDs.isEmpty)
            #expect(stored.receivedAt == clock.now().addingTimeInterval(-2))
            #expect(try await store.deliveries(DeliveryFilter()).map(\.id) == [callback, ping, rejected])
            #expect(try await store.deliveries(DeliveryFilter(source: "woocommerce")).map(\.id) == [ping, rejected])
            #expect(try await store.deliveries(DeliveryFilter(source: "other")).map(\.id) == [ping])
            #expect(try await store.deliveries(DeliveryFilter(verdict: "rejected")).map(\.id) == [callback, rejected])
            #expect(try await store.deliveries(DeliveryFilter(limit: 1)).map(\.id) == [callback])
            #expect(try await store.delivery(id: callback + 100) == nil)
        }
    }
}
