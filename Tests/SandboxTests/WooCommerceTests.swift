import Foundation
import Hummingbird
import Sandbox
import Testing

@Suite struct WooCommerceTests {
    let basic: HTTPFields = [.authorization: "Basic " + Data("ck_sandbox:cs_sandbox".utf8).base64EncodedString()]

    @Test func refundWithBasicAuthHasTheRESTShape() async throws {
        try await Harness.run { h in
            let result = try await h.send(.get, "/wp-json/wc/v3/orders/727/refunds/724", headers: basic)
            #expect(result.status == 200)
            let refund = try #require(result.json)
            #expect(refund["id"] == 724)
            #expect(refund["amount"] == "9.00")
            let line = try #require(refund["line_items"]?.arrayValue?.first)
            #expect(line["id"] == 314)
            #expect(line["quantity"] == -1)
            #expect(line["total"] == "-9.00")
            #expect(line["meta_data"] == [["id": 2076, "key": "_refunded_item_id", "value": "311"]])
        }
    }

    @Test func withoutOrWithWrongCredentialsIs401() async throws {
        try await Harness.run { h in
            let anonymous = try await h.send(.get, "/wp-json/wc/v3/orders/727/refunds/724")
            #expect(anonymous.status == 401)
            #expect(anonymous.json?["code"] == "woocommerce_rest_cannot_view")
            #expect(anonymous.json?["data"]?["status"] == 401)
            let wrong = try await h.send(
                .get, "/wp-json/wc/v3/orders/727/refunds/724",
                headers: [.authorization: "Basic " + Data("ck_sandbox:wrong".utf8).base64EncodedString()]
            )
            #expect(wrong.status == 401)
            #expect(wrong.json?["code"] == "woocommerce_rest_authentication_error")
            // An LMS token is no use on the store.
            let token = try await h.token()
            #expect(try await h.api(.get, "/wp-json/wc/v3/orders/727", token: token).status == 401)
        }
    }

    @Test func unknownIdsAre404() async throws {
        try await Harness.run { h in
            let refund = try await h.send(.get, "/wp-json/wc/v3/orders/727/refunds/999", headers: basic)
            #expect(refund.status == 404)
            #expect(refund.json?["code"] == "woocommerce_rest_invalid_id")
            let order = try await h.send(.get, "/wp-json/wc/v3/orders/4242", headers: basic)
            #expect(order.status == 404)
            #expect(order.json?["code"] == "woocommerce_rest_invalid_id")
        }
    }

    @Test func ordersListFiltersAndPages() async throws {
        try await Harness.run { h in
            let all = try await h.send(.get, "/wp-json/wc/v3/orders?per_page=1&page=1", headers: basic)
            #expect(all.status == 200)
            #expect(all.header("X-WP-Total") == "2")
            #expect(all.header("X-WP-TotalPages") == "2")
            #expect(all.json?.arrayValue?.map { $0["id"] } == [800])
            let second = try await h.send(.get, "/wp-json/wc/v3/orders?per_page=1&page=2", headers: basic)
            #expect(second.json?.arrayValue?.map { $0["id"] } == [727])

            let recent = try await h.send(.get, "/wp-json/wc/v3/orders?modified_after=2026-01-15T00:00:00&per_page=100", headers: basic)
            #expect(recent.header("X-WP-Total") == "1")
            #expect(recent.json?.arrayValue?.map { $0["id"] } == [800])
        }
    }

    @Test func controlPlaneRefundIsNormalisedAndTouchesTheOrder() async throws {
        try await Harness.run { h in
            let added = try await h.send(.post, "/__sandbox/woocommerce/refunds", json: [
                "order_id": 727,
                "refund": ["id": 725, "line_items": [["refunded_item_id": 312, "quantity": 1, "total": "9.00"]]],
            ])
            #expect(added.status == 201)
            let fetched = try await h.send(.get, "/wp-json/wc/v3/orders/727/refunds/725", headers: basic)
            let line = try #require(fetched.json?["line_items"]?.arrayValue?.first)
            #expect(line["quantity"] == -1)
            #expect(line["total"] == "-9.00")
            #expect(line["product_id"] == 88)
            #expect(line["meta_data"]?.arrayValue?.first?["value"] == "312")
            #expect(fetched.json?["amount"] == "9.00")

            let order = try await h.send(.get, "/wp-json/wc/v3/orders/727", headers: basic)
            #expect(order.json?["refunds"]?.arrayValue?.map { $0["id"] } == [725, 724])
            let recent = try await h.send(.get, "/wp-json/wc/v3/orders?modified_after=2026-06-01T00:00:00", headers: basic)
            #expect(recent.json?.arrayValue?.map { $0["id"] } == [727])

            let orphan = try await h.send(.post, "/__sandbox/woocommerce/refunds", json: ["order_id": 1, "refund": ["id": 2]])
            #expect(orphan.status == 404)
        }
    }

    /// The list as catch-up reads it: `modified_after` strictly after, GMT only with `dates_are_gmt`, sorted by
    /// modified then id, `per_page` at most 100, the counts in headers, `[]` past the end.
    @Test func ordersListAsCatchUpReadsIt() async throws {
        try await Harness.run { h in
            let orders: [SandboxJSON] = (1...5).map { n in
                ["id": .int(900 + n), "status": "processing", "date_created_gmt": "2026-12-01T08:00:00",
                 "date_modified_gmt": .string(n <= 2 ? "2026-12-01T10:00:00" : "2026-12-01T10:00:0\(n)")]
            }
            let added = try await h.send(.post, "/__sandbox/woocommerce/orders", json: .array(orders))
            #expect(added.json?["created"] == 5)
            func ids(_ query: String) async throws -> (ids: [Int], total: String?, pages: String?, status: Int) {
                let result = try await h.send(.get, "/wp-json/wc/v3/orders?" + query, headers: basic)
                return (result.json?.arrayValue?.compactMap { $0["id"]?.intValue } ?? [], result.header("X-WP-Total"),
                        result.header("X-WP-TotalPages"), result.status)
            }
            let base = "dates_are_gmt=true&orderby=modified&order=asc"
            let strictly = try await ids("modified_after=2026-12-01T10:00:00&\(base)&per_page=100")
            #expect(strictly.ids == [903, 904, 905])
            let fromBefore = try await ids("modified_after=2026-12-01T09:59:59&\(base)&per_page=2&page=1")
            #expect(fromBefore.ids == [901, 902])
            #expect(fromBefore.total == "5" && fromBefore.pages == "3")
            #expect(try await ids("modified_after=2026-12-01T09:59:59&\(base)&per_page=2&page=3").ids == [905])
            let past = try await ids("modified_after=2026-12-01T09:59:59&\(base)&per_page=2&page=4")
            #expect(past.ids == [] && past.status == 200)
            // Without dates_are_gmt the cutoff is New York time: five hours later in GMT, so nothing.
            #expect(try await ids("modified_after=2026-12-01T09:59:59&orderby=modified&order=asc").ids == [])
            #expect(try await ids("modified_after=2026-12-01T04:59:59&orderby=modified&order=asc&per_page=100").ids == [901, 902, 903, 904, 905])
            let tooMany = try await h.send(.get, "/wp-json/wc/v3/orders?per_page=101", headers: basic)
            #expect(tooMany.status == 400)
            #expect(tooMany.json?["code"] == "rest_invalid_param")
            #expect(try await ids("orderby=sideways").status == 400)
            #expect(try await ids("modified_after=soon").status == 400)

            // An old store: modified_after is ignored, every order comes back.
            let settings = try await h.send(.post, "/__sandbox/woocommerce/settings", json: ["ignore_modified_after": true])
            #expect(settings.json?["ignore_modified_after"] == true)
            let old = try await ids("modified_after=2026-12-01T10:00:00&\(base)&per_page=100")
            #expect(old.ids.count == 7 && old.ids.contains(727))
        }
    }

    @Test func webhooksAreListedAndAStoreCanGoDown() async throws {
        try await Harness.run { h in
            let added = try await h.send(.post, "/__sandbox/woocommerce/webhooks", json: [
                "id": 12, "status": "disabled", "delivery_url": "https://registrar.example.edu/webhooks/woocommerce/main",
            ])
            #expect(added.status == 201)
            #expect(try await h.send(.post, "/__sandbox/woocommerce/webhooks", json: ["id": 13, "status": "sleeping"]).status == 400)
            let listed = try await h.send(.get, "/wp-json/wc/v3/webhooks", headers: basic)
            #expect(listed.status == 200)
            let hook = try #require(listed.json?.arrayValue?.first)
            #expect(hook["id"] == 12 && hook["status"] == "disabled" && hook["topic"] == "order.updated")
            #expect(try await h.send(.get, "/wp-json/wc/v3/webhooks").status == 401)

            _ = try await h.send(.post, "/__sandbox/woocommerce/settings", json: ["down": true])
            #expect(try await h.send(.get, "/wp-json/wc/v3/orders", headers: basic).status == 503)
            #expect(try await h.send(.get, "/wp-json/wc/v3/webhooks", headers: basic).status == 503)
            _ = try await h.send(.post, "/__sandbox/woocommerce/settings", json: ["down": false])
            #expect(try await h.send(.get, "/wp-json/wc/v3/orders", headers: basic).status == 200)
        }
    }
}
