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
}
