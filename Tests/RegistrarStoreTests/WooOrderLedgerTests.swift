import Foundation
import RegistrarCore
import RegistrarStore
import Testing

/// The memory intake decides an order against: which of its lines and refunds already have jobs.
@Suite struct WooOrderLedgerTests {
    func memory(_ store: RegistrarStore, _ storeID: String, order: Int, lines: [Int], refunds: [Int] = []) async throws
        -> WooOrderMemory {
        try await store.write { db in
            try WooOrderLedger.memory(store: storeID, orderID: order, lineIDs: lines, refundIDs: refunds, in: db)
        }
    }

    @Test func findsTheOrdersOwnJobsLiveOrPrunedAndNothingOfItsNeighbours() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
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
        for claimed in try await store.claim(owner: "w", limit: 20)
        where claimed.job.dedupeKey == WooKeys.refund(store: "a", order: 1, refund: 9) {
            try await store.finish(claimed, outcome: .success())
        }
        clock.advance(3600)
        #expect(try await store.pruneSucceeded(finishedBefore: clock.now()) == 1)

        let found = try await memory(store, "a", order: 1, lines: [5, 6, 7, 8], refunds: [9, 10])
        #expect(found.linesWithEnroll == [5])
        #expect(found.linesWithUnenroll == [6])
        #expect(found.refundsSeen == [9])

        let other = try await memory(store, "a:1", order: 7, lines: [7, 5], refunds: [9])
        #expect(other.linesWithEnroll == [7] && other.linesWithUnenroll.isEmpty && other.refundsSeen.isEmpty)
        let fresh = try await memory(store, "a", order: 2, lines: [5], refunds: [9])
        #expect(fresh == WooOrderMemory())
    }

    /// A delivery's row lists the jobs it created. For a new order the ids are foreseen and written with the row;
    /// when the foresight is wrong the list must still come out right.
    @Test func aDeliveryListsItsJobsWhetherTheirIdsWereForeseenOrNot() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let rules = WooIntakeRules(store: StoreConfig(id: "main", webhookSecret: Secret("s")), catalog: [
            CatalogEntry(store: "main", productID: 87, courseID: "course-v1:edX+DemoX+Demo_Course"),
            CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+2026", mode: "audit"),
        ])
        func order(_ id: Int) -> WooPayload {
            .order(WooOrder(id: id, status: "processing", billingEmail: "zoe@example.com",
                            dateModifiedGMT: "2026-11-21T10:15:02",
                            lineItems: [WooLineItem(id: 311, productID: 87), WooLineItem(id: 312, productID: 93)]))
        }
        func record(_ payload: WooPayload) async throws -> (deliveryID: Int64, jobs: [EnqueuedJob]) {
            try await store.write { db in
                let decided = try WooOrderLedger.decide(payload, rules: rules, storeID: "main", deliveryKey: "d", in: db)
                let row = DeliveryRow(NewDelivery(source: "woocommerce", channel: "main", body: Array("{}".utf8),
                                                  verdict: decided.decision.verdict.rawValue, httpStatus: 200),
                                      receivedAt: Date())
                return try WooOrderLedger.record(row, deciding: decided, of: payload, storeID: "main", maxAttempts: 5,
                                                 now: Date(), in: db)
            }
        }
        func listed(_ id: Int64) async throws -> [Int64]? { try await store.delivery(id: id)?.jobIDs }

        _ = try await store.enqueue([job("unrelated")])
        let first = try await record(order(727))
        #expect(first.jobs.count == 2 && first.jobs.allSatisfy(\.created))
        #expect(try await listed(first.deliveryID) == first.jobs.map(\.id))
        let remembered = try await memory(store, "main", order: 727, lines: [311, 312, 313])
        #expect(remembered == WooOrderMemory(newestModifiedGMT: "2026-11-21T10:15:02", linesWithEnroll: [311, 312]))

        // The same order again: its jobs are found by their keys, not foreseen, and the row lists them.
        let again = try await record(order(727))
        #expect(again.jobs.map(\.id) == first.jobs.map(\.id) && !again.jobs.contains(where: \.created))
        #expect(try await listed(again.deliveryID) == first.jobs.map(\.id))

        // sqlite_sequence behind the table's largest id: AUTOINCREMENT still goes past the largest, so the
        // foreseen ids are one short and the row must be corrected.
        try await store.write { db in try db.execute(sql: "UPDATE sqlite_sequence SET seq = seq - 1 WHERE name = 'jobs'") }
        let second = try await record(order(728))
        #expect(second.jobs.count == 2 && second.jobs.allSatisfy(\.created))
        #expect(second.jobs.first?.id == first.jobs.last.map { $0.id + 1 })
        #expect(try await listed(second.deliveryID) == second.jobs.map(\.id))
    }
}
