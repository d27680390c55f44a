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
                profileID: "p1", createdBy: "shop"))
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

    static func orderBody(email: String, reference: String) -> ByteBuffer {
        let json = JSONValue.object([
            "reference": .string(reference), "email": .string(email), "currency": .string("USD"),
            "items": .array([.object(["course_id": .string("course-v1:edX+DemoX+2026"), "unit_price": .string("10.00")])]),
        ])
        return ByteBuffer(string: json.jsonText)
    }

    /// A storefront reads the orders it registered; another storefront's are answered as if absent; operators
    /// and finance read every order.
    @Test func aStorefrontReadsOnlyTheOrdersItRegistered() async throws {
        let harness = try ServerHarness()
        let shop = try await harness.store.createToken(name: "shop", role: .storefront)
        let other = try await harness.store.createToken(name: "other-shop", role: .storefront)
        let ops = try await harness.store.createToken(name: "ops", role: .ops)
        let finance = try await harness.store.createToken(name: "finance", role: .financeAdmin)
        try await harness.test { client in
            try await client.execute(uri: "/api/v1/orders", method: .post, headers: bearer(shop),
                                     body: Self.orderBody(email: "ann@example.com", reference: "SHOP-1")) { response in
                #expect(response.status == .created, "\(response.text)")
            }
            for (token, status) in [(shop, HTTPResponse.Status.ok), (other, .notFound), (ops, .ok), (finance, .ok)] {
                try await client.execute(uri: "/api/v1/orders/SHOP-1", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == status, "\(response.text)")
                    if status == .notFound { #expect(response.text.contains("no order SHOP-1")) }
                }
            }
        }
        #expect(try await harness.store.order(reference: "SHOP-1")?.createdBy == "shop")
    }

    /// A line break in the email would forge a log line and go into the signed bill_to_email.
    @Test func anEmailWithALineBreakOrAControlCharacterIsRefused() async throws {
        let harness = try ServerHarness()
        let shop = try await harness.store.createToken(name: "shop", role: .storefront)
        try await harness.test { client in
            for (index, email) in ["a@example.com\n2026-12-02T10:00:00+0000 info registrar: forged",
                                   "a@example.com\r", "a\u{0}@example.com", "a\u{1B}[2J@example.com", "a@exa\u{2028}mple.com",
                                   "a b@example.com", "a@b@example.com"].enumerated() {
                try await client.execute(uri: "/api/v1/orders", method: .post, headers: bearer(shop),
                                         body: Self.orderBody(email: email, reference: "BAD-\(index)")) { response in
                    #expect(response.status == .badRequest, "\(email.debugDescription): \(response.text)")
                    #expect(response.json?["error"]?.stringValue == "invalid_order")
                    #expect(!response.text.contains("\n"), "the refusal echoes a raw line break")
                }
            }
        }
        #expect(try await harness.store.orders(attentionOnly: false).isEmpty)
    }
}
