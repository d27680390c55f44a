import Foundation
import RegistrarCore
import Testing

@Suite struct WooCommerceParsingTests {
    func problem(_ text: String, topic: String = "order.updated") -> String? {
        do {
            _ = try WooPayload.parse(topic: topic, text: text)
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: Fixtures

    @Test func processingOrderFixture() throws {
        let order = try WooFixtures.order("order-727-processing.json")
        #expect(order.id == 727)
        #expect(order.number == "727")
        #expect(order.status == "processing")
        #expect(order.billingEmail == "zoe.muller@example.com")
        #expect(order.dateModifiedGMT == "2026-11-20T10:00:00")
        #expect(order.refunds == [])
        #expect(order.lineItems.map(\.id) == [311, 312, 313])
        let course = order.lineItems[0]
        #expect(course.name == "Café Course — Verified") // from \u00e9 and \u2014 escapes
        #expect(course.productID == 87 && course.variationID == 0 && course.quantity == 1)
        #expect(course.sku == nil) // "" in the payload
        #expect(course.meta == ["_course_id": "course-v1:edX+DemoX+Demo_Course", "_mode": "verified"])
        #expect(order.lineItems[1] == WooLineItem(id: 312, name: "Demo Course 2026", productID: 93, quantity: 1, sku: "DEMO-1",
                                                  subtotal: 29, total: 29))
        #expect(order.lineItems[2] == WooLineItem(id: 313, name: "T-shirt", productID: 99, quantity: 2, sku: "WOO-TSHIRT",
                                                  subtotal: 25, total: 25))
        #expect(order.currency == "EUR" && order.total == 108 && order.totalText == "108.00")
    }

    @Test func everyOrderFixtureParses() throws {
        let expected: [(String, String, String?, [Int])] = [
            ("order-727-processing.json", "processing", "2026-11-20T10:00:00", []),
            ("order-727-completed.json", "completed", "2026-11-20T10:05:00", []),
            ("order-727-partial-refund.json", "processing", "2026-11-20T11:00:00", [731]),
            ("order-727-refunded.json", "refunded", "2026-11-20T12:00:00", [732, 731]),
            ("order-727-processing-stale.json", "processing", "2026-11-20T09:59:00", []),
            ("order-800-checkout-draft.json", "checkout-draft", "2026-11-20T13:00:00", []),
            ("order-801-pending.json", "pending", "2026-11-20T13:10:00", []),
        ]
        for (name, status, modified, refunds) in expected {
            let order = try WooFixtures.order(name)
            #expect(order.status == status, "\(name)")
            #expect(order.dateModifiedGMT == modified, "\(name)")
            #expect(order.refunds.map(\.id) == refunds, "\(name)")
        }
        // Older than every other state of order 727: the stale fixture must stay so.
        let stale = try #require(try WooFixtures.order("order-727-processing-stale.json").dateModifiedGMT)
        for name in ["order-727-processing.json", "order-727-completed.json", "order-727-partial-refund.json", "order-727-refunded.json"] {
            #expect(stale < (try WooFixtures.order(name).dateModifiedGMT ?? ""), "\(name)")
        }
    }

    @Test func refundTotalsAreRead() throws {
        let order = try WooFixtures.order("order-727-refunded.json")
        #expect(order.refunds == [WooRefundReference(id: 732, total: "-59.00"), WooRefundReference(id: 731, total: "-49.00")])
    }

    @Test func emailIsTrimmedAndLowerCased() throws {
        let raw = String(decoding: try WooFixtures.bytes("order-727-processing-untrimmed-email.json"), as: UTF8.self)
        #expect(raw.contains(#""email":"  Zoe.Muller@Example.COM ""#))
        #expect(try WooFixtures.order("order-727-processing-untrimmed-email.json").billingEmail == "zoe.muller@example.com")
    }

    @Test func draftWithEmptyEmailHasNone() throws {
        let order = try WooFixtures.order("order-800-checkout-draft.json")
        #expect(order.id == 800 && order.billingEmail == nil)
    }

    @Test func fixturesAreWrittenAsWordPressWritesThem() throws {
        let raw = String(decoding: try WooFixtures.bytes("order-727-processing.json"), as: UTF8.self)
        #expect(raw.contains(#"https:\/\/shop.example.com\/wp-json\/wc\/v3\/orders\/727"#))
        #expect(raw.contains(#"Caf\u00e9 Course \u2014 Verified"#))
        #expect(!raw.contains("\n") && !raw.contains(": "))
        #expect(raw.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func createdAndRestoredAreOrdersToo() throws {
        let body = try WooFixtures.bytes("order-727-processing.json")
        for topic in ["order.created", "order.updated", "order.restored", " order.updated "] {
            guard case .order(let order) = try WooPayload.parse(topic: topic, body: body) else {
                Issue.record("\(topic) is not an order")
                continue
            }
            #expect(order.id == 727)
        }
    }

    @Test func deletedFixture() throws {
        #expect(try WooPayload.parse(topic: "order.deleted", body: WooFixtures.bytes("order-deleted.json")) == .deletedOrder(id: 727))
        #expect(try WooPayload.parse(topic: "order.deleted", text: #"{"id":"727"}"#) == .deletedOrder(id: 727))
    }

    @Test func actionFixture() throws {
        let payload = try WooPayload.parse(topic: "action.woocommerce_order_refunded", body: WooFixtures.bytes("action-order-refunded.json"))
        #expect(payload == .action(name: "woocommerce_order_refunded", arg: .number(727)))
        #expect(try WooPayload.parse(topic: "action.woocommerce_order_refunded", text: #"{"arg":"727"}"#)
            == .action(name: "woocommerce_order_refunded", arg: .string("727")))
        #expect(try WooPayload.parse(topic: "action.x", text: #"{"action":"y"}"#) == .action(name: "y", arg: .null))
    }

    @Test func otherTopicsAreNotRead() throws {
        #expect(try WooPayload.parse(topic: "product.updated", text: "not json at all") == .other(topic: "product.updated"))
        #expect(try WooPayload.parse(topic: "customer.created", text: "{}") == .other(topic: "customer.created"))
        #expect(try WooPayload.parse(topic: "", text: "") == .other(topic: ""))
    }

    // MARK: What WooCommerce and PHP do to JSON

    static let minimal = #"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":1}]}"#

    @Test func minimalOrder() throws {
        let payload = try WooPayload.parse(topic: "order.updated", text: Self.minimal)
        #expect(payload == .order(WooOrder(id: 5, number: "5", status: "processing", lineItems: [WooLineItem(id: 1, productID: 2)])))
    }

    @Test func numbersSentAsStrings() throws {
        let text = #"{"id":"727","number":727,"status":"processing","line_items":[{"id":"311","product_id":"93","variation_id":"4","quantity":"2"}],"refunds":[{"id":"731","total":-49}]}"#
        guard case .order(let order) = try WooPayload.parse(topic: "order.updated", text: text) else { Issue.record(); return }
        #expect(order.id == 727 && order.number == "727")
        #expect(order.lineItems == [WooLineItem(id: 311, productID: 93, variationID: 4, quantity: 2)])
        #expect(order.refunds == [WooRefundReference(id: 731, total: "-49")])
    }

    @Test func orderNumberIsReadAsText() throws {
        for (number, expected) in [(#""WC-1001""#, "WC-1001"), ("1001", "1001"), ("null", "5"), (#""""#, "5")] {
            let text = #"{"id":5,"number":"# + number + #","status":"processing","line_items":[]}"#
            guard case .order(let order) = try WooPayload.parse(topic: "order.updated", text: text) else { Issue.record(); return }
            #expect(order.number == expected, "\(number)")
        }
    }

    @Test func escapesAreDecoded() throws {
        let text = #"{"id":5,"status":"processing","billing":{"email":"Zo\u00e9@Example.com"},"line_items":[{"id":1,"name":"A\/B \u00fc","product_id":2,"quantity":1,"sku":"course-v1:x+y+z","meta_data":[{"id":9,"key":"url","value":"https:\/\/x.test\/a"}]}]}"#
        guard case .order(let order) = try WooPayload.parse(topic: "order.updated", text: text) else { Issue.record(); return }
        #expect(order.billingEmail == "zoé@example.com")
        #expect(order.lineItems[0].name == "A/B ü")
        #expect(order.lineItems[0].meta["url"] == "https://x.test/a")
    }

    @Test func phpEmptyArraysAndNulls() throws {
        let text = #"{"id":5,"number":"","status":"pending","billing":[],"date_modified_gmt":null,"line_items":[{"id":1,"product_id":2,"quantity":1,"variation_id":null,"sku":null,"name":null,"meta_data":[]}],"refunds":[]}"#
        guard case .order(let order) = try WooPayload.parse(topic: "order.updated", text: text) else { Issue.record(); return }
        #expect(order == WooOrder(id: 5, number: "5", status: "pending", lineItems: [WooLineItem(id: 1, productID: 2)]))
        let noBilling = #"{"id":5,"status":"pending","line_items":[]}"#
        guard case .order(let bare) = try WooPayload.parse(topic: "order.updated", text: noBilling) else { Issue.record(); return }
        #expect(bare.billingEmail == nil && bare.refunds == [] && bare.lineItems == [] && bare.dateModifiedGMT == nil)
        let blankEmail = #"{"id":5,"status":"pending","billing":{"email":"   "},"line_items":[]}"#
        guard case .order(let blank) = try WooPayload.parse(topic: "order.updated", text: blankEmail) else { Issue.record(); return }
        #expect(blank.billingEmail == nil)
    }

    @Test func metaValues() throws {
        let meta = #"[{"id":1,"key":"_course_id","value":"first"},{"id":2,"key":"_course_id","value":"second"},{"id":3,"key":"n","value":12},{"id":4,"key":"arr","value":["a"]},{"id":5,"key":"obj","value":{"a":1}},{"id":6,"value":"no key"},{"id":7,"key":"flag","value":true},{"id":8,"key":"f","value":1.5}]"#
        let text = #"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":1,"meta_data":"# + meta + "}]}"
        guard case .order(let order) = try WooPayload.parse(topic: "order.updated", text: text) else { Issue.record(); return }
        #expect(order.lineItems[0].meta == ["_course_id": "first", "n": "12", "f": "1.5"])
    }

    /// PHP writes a list with holes in its keys (meta keyed by meta id) as an object.
    @Test func integerKeyedObjectsAreLists() throws {
        let text = #"{"id":5,"status":"processing","line_items":{"0":{"id":1,"product_id":2,"quantity":1,"meta_data":{"2071":{"key":"_mode","value":"verified"},"2070":{"key":"_course_id","value":"course-v1:a+b+c"}}}}}"#
        guard case .order(let order) = try WooPayload.parse(topic: "order.updated", text: text) else { Issue.record(); return }
        #expect(order.lineItems[0].meta == ["_course_id": "course-v1:a+b+c", "_mode": "verified"])
        #expect(problem(#"{"id":5,"status":"processing","line_items":{"a":{}}}"#) == "line_items is not an array: an object")
    }

    @Test func numericSKUIsText() throws {
        let text = #"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":1,"sku":12345}]}"#
        guard case .order(let order) = try WooPayload.parse(topic: "order.updated", text: text) else { Issue.record(); return }
        #expect(order.lineItems[0].sku == "12345")
    }

    // MARK: Malformed bodies name the problem

    @Test func notJSON() {
        #expect(problem("{\"id\": 5,")?.hasPrefix("body is not JSON: ") == true)
        #expect(problem("")?.hasPrefix("body is not JSON: ") == true)
        #expect(problem("webhook_id=42")?.hasPrefix("body is not JSON: ") == true)
        do {
            _ = try WooPayload.parse(topic: "order.updated", body: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D])
            Issue.record("invalid UTF-8 parsed")
        } catch {
            #expect(error.message.hasPrefix("body is not JSON: "))
        }
    }

    @Test(arguments: [
        ("[]", "body is not a JSON object: an array of 0"),
        ("\"x\"", "body is not a JSON object: \"x\""),
        ("12", "body is not a JSON object: 12"),
        ("null", "body is not a JSON object: null"),
    ])
    func nonObjects(text: String, message: String) {
        #expect(problem(text) == message)
        #expect(problem(text, topic: "order.deleted") == message)
        #expect(problem(text, topic: "action.woocommerce_order_refunded") == message)
    }

    @Test(arguments: [
        (#"{"status":"processing","line_items":[]}"#, "id is missing"),
        (#"{"id":null,"status":"processing","line_items":[]}"#, "id is missing"),
        (#"{"id":"abc","status":"processing","line_items":[]}"#, "id is not an integer: \"abc\""),
        (#"{"id":7.5,"status":"processing","line_items":[]}"#, "id is not an integer: 7.5"),
        (#"{"id":true,"status":"processing","line_items":[]}"#, "id is not an integer: true"),
        (#"{"id":0,"status":"processing","line_items":[]}"#, "id is not a positive integer: 0"),
        (#"{"id":5,"line_items":[]}"#, "status is missing"),
        (#"{"id":5,"status":5,"line_items":[]}"#, "status is not a string: 5"),
        (#"{"id":5,"status":"processing"}"#, "line_items is missing"),
        (#"{"id":5,"status":"processing","line_items":"x"}"#, "line_items is not an array: \"x\""),
        (#"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":1},7]}"#, "line_items[1] is not an object: 7"),
        (#"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":1},{"product_id":2,"quantity":1}]}"#, "line_items[1].id is missing"),
        (#"{"id":5,"status":"processing","line_items":[{"id":"one","product_id":2,"quantity":1}]}"#, "line_items[0].id is not an integer: \"one\""),
        (#"{"id":5,"status":"processing","line_items":[{"id":1,"quantity":1}]}"#, "line_items[0].product_id is missing"),
        (#"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2}]}"#, "line_items[0].quantity is missing"),
        (#"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":"two"}]}"#, "line_items[0].quantity is not an integer: \"two\""),
        (#"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":1,"variation_id":"v"}]}"#, "line_items[0].variation_id is not an integer: \"v\""),
        (#"{"id":5,"status":"processing","line_items":[{"id":1,"product_id":2,"quantity":1,"meta_data":5}]}"#, "line_items[0].meta_data is not an array: 5"),
        (#"{"id":5,"status":"processing","line_items":[],"refunds":[{"total":"-1.00"}]}"#, "refunds[0].id is missing"),
        (#"{"id":5,"status":"processing","line_items":[],"refunds":["731"]}"#, "refunds[0] is not an object: \"731\""),
        (#"{"id":5,"status":"processing","line_items":[],"refunds":{}}"#, ""), // an empty PHP array: fine
    ])
    func malformedOrders(text: String, message: String) {
        #expect(problem(text) == (message.isEmpty ? nil : message))
    }

    @Test func malformedDeleteAndAction() {
        #expect(problem("{}", topic: "order.deleted") == "id is missing")
        #expect(problem(#"{"id":"x"}"#, topic: "order.deleted") == "id is not an integer: \"x\"")
        #expect(problem(#"{"action":5,"arg":727}"#, topic: "action.woocommerce_order_refunded") == "action is not a string: 5")
    }

    @Test func errorDescribesItself() {
        let error = WooParseError("status is not a string")
        #expect(error.description == "status is not a string" && "\(error)" == "status is not a string")
        #expect(WooParseError(message: "x") == WooParseError("x"))
    }
}
