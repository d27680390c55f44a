import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

@Suite struct OrdersAPITests {
    /// `GET /api/v1/orders/{reference}` lists that order's jobs and no other's, whatever its reference holds.
    @Test func anOrderShowsOnlyItsOwnJobs() async throws {
        let harness = try ServerHarness()
        let token = try await harness.store.createToken(name: "shop", role: .storefront)
        let references = ["AB1", "a_1", "A_1", "_______________"]
        for reference in references {
            try await harness.store.createOrder(NewOrder(
                reference: reference, email: "\(reference.count)@example.com", currency: "USD", total: 10,
                items: OrderFulfilment.plan([OrderItem(courseID: "course-v1:edX+DemoX+2026", quantity: 1, unitPrice: "10.00")]),
                profileID: "p1"))
            _ = try await harness.store.enqueue([NewJob(kind: .enroll, dedupeKey: OrderFulfilment.keyPrefix(reference: reference) + "0:enroll",
                                                        payload: "{}", source: "t")])
        }
        try await harness.test { client in
            for reference in references {
                try await client.execute(uri: "/api/v1/orders/\(reference)", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == .ok)
                    let jobs = response.json?["jobs"]?.arrayValue ?? []
                    #expect(jobs.count == 1, "\(reference) lists \(jobs.count) jobs: \(response.text)")
                }
            }
        }
    }
}
