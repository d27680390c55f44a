import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `DeliveryLog`: what the ledger keeps of a delivery, and how long.
@Suite struct DeliveryLogConformance {
    func delivery(_ verdict: String, body: [UInt8] = Array("{}".utf8)) -> NewDelivery {
        NewDelivery(source: "woocommerce", channel: "main", body: body, verdict: verdict,
                    httpStatus: verdict == "rejected" ? 401 : 200)
    }

    @Test(arguments: Backends.all)
    func aRejectedDeliveryKeepsItsSizeHashAndFirstFourKilobytesOnly(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let big = [UInt8](repeating: UInt8(ascii: "z"), count: 300_000)
            let rejected = try #require(try await store.delivery(id: store.recordDelivery(delivery("rejected", body: big))))
            #expect(rejected.body.count == 4096 && rejected.bodySize == 300_000 && rejected.bodyIsPartial)
            #expect(rejected.bodySHA256 == StoredBody.sha256Hex(big))
            let accepted = try #require(try await store.delivery(id: store.recordDelivery(delivery("ignored", body: big))))
            #expect(accepted.body == big && accepted.bodySize == 300_000 && !accepted.bodyIsPartial && accepted.bodySHA256 == nil)
            let unread = try #require(try await store.delivery(id: store.recordDelivery(NewDelivery(
                source: "cybersource", unread: .unread(size: 9_000_000, sha256: "ab"), verdict: "rejected", httpStatus: 413))))
            #expect(unread.body.isEmpty && unread.bodySize == 9_000_000 && unread.bodySHA256 == "ab")
            // The sender's headers are bounded too.
            let headers = Dictionary(uniqueKeysWithValues: (0..<50).map { ("x-wc-webhook-\($0)", String(repeating: "h", count: 10_000)) })
            let noisy = try #require(try await store.delivery(id: store.recordDelivery(NewDelivery(
                source: "woocommerce", headers: headers, body: [], verdict: "rejected", httpStatus: 401))))
            #expect(noisy.headers.count == 16 && noisy.headers.values.allSatisfy { $0.utf8.count <= 256 })
        }
    }

    @Test(arguments: Backends.all)
    func cardNumbersNeverReachTheLedger(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            for verdict in ["rejected", "accepted"] {
                let id = try await store.recordDelivery(delivery(verdict, body: Array("req_card_number=4111111111111111&x=1".utf8)))
                let kept = try #require(try await store.delivery(id: id)).bodyText
                #expect(!kept.contains("4111111111111111") && kept.contains("1111"), "\(verdict): \(kept)")
            }
        }
    }

    /// Rejected deliveries go after `rejectedOlderThan`, the rest after `olderThan`; one a job still in the table
    /// (or a payment) refers to stays whatever its age, and goes once its job is pruned.
    @Test(arguments: Backends.all)
    func pruningKeepsDeliveriesThatLiveJobsReferTo(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let rejected = try await store.recordDelivery(delivery("rejected"))
            let ignored = try await store.recordDelivery(delivery("ignored"))
            let cliDelivery = NewDelivery(source: "cli", body: Array("{}".utf8), verdict: "accepted", httpStatus: 0)
            let withJobs = try await store.enqueue([job("kept-by-job")], delivery: cliDelivery)
            let cli = try #require(withJobs.deliveryID)
            clock.advance(8 * 86400)
            let fresh = try await store.recordDelivery(delivery("rejected"))

            func prune() async throws -> Int {
                try await store.pruneDeliveries(olderThan: .seconds(30 * 86400), rejectedOlderThan: .seconds(7 * 86400), limit: 1)
            }
            // In batches of `limit`: only the old rejected one goes before the general retention.
            #expect(try await prune() == 1)
            #expect(try await prune() == 0)
            #expect(try await store.delivery(id: rejected) == nil)
            #expect(try await store.delivery(id: fresh) != nil)
            #expect(try await store.delivery(id: ignored) != nil)

            clock.advance(30 * 86400)
            var pruned = 0
            while case let batch = try await prune(), batch > 0 { pruned += batch }
            #expect(pruned == 2, "the ignored one and the fresh rejected one")
            #expect(try await store.delivery(id: ignored) == nil)
            // The delivery its job points to stays while the job is in the table (queued, here).
            #expect(try await store.delivery(id: cli) != nil)
            #expect(try await store.job(id: withJobs.jobs[0].id)?.deliveryID == cli)
        }
    }

    @Test(arguments: Backends.all)
    func aDeliveryStaysWhileAJobReferringToItIsInTheTableAndGoesWithIt(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            let done = try await store.enqueue([job("done")], delivery: NewDelivery(source: "cli", body: [], verdict: "accepted",
                                                                                    httpStatus: 0))
            let result = try await store.enqueue([job("ok"), job("bad")],
                                                 delivery: NewDelivery(source: "cli", body: [], verdict: "accepted", httpStatus: 0))
            let id = try #require(result.deliveryID)
            try await runAll(store) { $0.job.dedupeKey == "bad" ? .permanent(reason: "closed") : .success() }
            clock.advance(40 * 86400)
            #expect(try await store.pruneSucceeded(olderThan: .seconds(30 * 86400)) == 2)
            // The delivery whose only job succeeded and was pruned goes; the failed job is kept for operators, and so
            // is its delivery.
            #expect(try await store.pruneDeliveries(olderThan: .seconds(30 * 86400), rejectedOlderThan: .seconds(86400),
                                                    limit: 100) == 1)
            #expect(try await store.delivery(id: try #require(done.deliveryID)) == nil)
            let failed = try #require(try await store.jobs(JobFilter(state: .failed)).first)
            #expect(failed.deliveryID == id)
            _ = try await store.cancel(ids: [failed.id], actor: "t")
            #expect(try await store.pruneDeliveries(olderThan: .seconds(30 * 86400), rejectedOlderThan: .seconds(86400),
                                                    limit: 100) == 0)
            #expect(try await store.delivery(id: id) != nil, "a cancelled job is still in the table")
        }
    }

    @Test(arguments: Backends.all)
    func aDeliveryAPaymentRecordsIsKept(_ backend: StoreBackend) async throws {
        let clock = ManualClock()
        try await backend.with(clock: clock) { store in
            try await store.createOrder(NewOrder(reference: "RG-9", email: "sam@example.com", currency: "USD", total: 5,
                                                 items: OrderFulfilment.plan([OrderItem(courseID: "course-v1:a+b+c", quantity: 1,
                                                                                        unitPrice: "5.00")]),
                                                 profileID: "p1", createdBy: "shop"))
            let paid = try await store.applyPayment(
                VerifiedCallback(profileID: "p1", referenceNumber: "RG-9", transactionID: "T9", currency: "USD", decision: .decline,
                                 requestAmount: 5, authAmount: nil, signedDateTime: clock.now()),
                delivery: NewDelivery(source: "cybersource", body: [], verdict: "accepted", httpStatus: 200))
            clock.advance(400 * 86400)
            #expect(try await store.pruneDeliveries(olderThan: .seconds(30 * 86400), rejectedOlderThan: .seconds(86400),
                                                    limit: 100) == 0)
            #expect(try await store.delivery(id: paid.deliveryID) != nil)
            #expect(try await store.order(reference: "RG-9")?.createdBy == "shop")
        }
    }

    @Test(arguments: Backends.all)
    func theFootprintCountsTheDatabase(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let before = try await store.footprint()
            // Bytes that do not compress: PostgreSQL compresses a large value it stores.
            var generator = SystemRandomNumberGenerator()
            let body = (0..<2_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try await store.recordDelivery(delivery("ignored", body: body))
            let after = try await store.footprint()
            #expect(after.databaseBytes >= before.databaseBytes + 1_900_000)
            #expect((after.freeBytes ?? 1) > 0)
        }
    }
}
