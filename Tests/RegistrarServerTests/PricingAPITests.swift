import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `/api/v1/prices` (finance admins) and `/api/v1/coupons…` (sales admins): set, list and remove prices, make,
/// read and deactivate coupons, every change audited, refusals named and storing nothing, scoped tokens held
/// to their courses.
@Suite struct PricingAPITests {
    static let demo = "course-v1:edX+DemoX+2026"
    static let mit = "course-v1:MITx+6.00x+2026"

    func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    func headers(_ token: String) -> HTTPFields {
        var fields = bearer(token)
        fields[.contentType] = "application/json"
        return fields
    }

    /// The audit trail as (actor, action, detail), oldest first.
    func audit(_ harness: ServerHarness, prefix: String) throws -> [[String?]] {
        let queue = try DatabaseQueue(path: harness.config.database)
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT actor, action, detail FROM operator_actions WHERE action LIKE ? ORDER BY id",
                             arguments: [prefix + "%"]).map { [$0["actor"], $0["action"], $0["detail"]] }
        }
    }

    @Test func financeAdminsSetListChangeAndRemovePrices() async throws {
        let harness = try ServerHarness()
        let finance = try await harness.store.createToken(name: "finance", role: .financeAdmin)
        let others = [try await harness.store.createToken(name: "shop", role: .storefront),
                      try await harness.store.createToken(name: "ops", role: .ops),
                      try await harness.store.createToken(name: "sales", role: .salesAdmin)]
        try await harness.test { client in
            for token in others {
                try await client.execute(uri: "/api/v1/prices", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "wrong_role", "\(response.text)")
                }
                try await client.execute(uri: "/api/v1/prices", method: .put, headers: headers(token),
                                         body: body(#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "USD", "price": "1.00"}"#)) { response in
                    #expect(response.status == .forbidden)
                }
            }
            try await client.execute(uri: "/api/v1/prices", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/prices", method: .put, headers: headers(finance),
                                     body: body(#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "usd", "price": "39"}"#)) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json == .object(["course_id": .string(Self.demo), "mode": .string("verified"), "currency": .string("USD"),
                                                  "price": .string("39.00"), "previous": .null]))
            }
            // A JSON number is taken as its decimal text.
            try await client.execute(uri: "/api/v1/prices", method: .put, headers: headers(finance),
                                     body: body(#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "USD", "price": 49.5}"#)) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?["price"]?.stringValue == "49.50")
                #expect(response.json?["previous"]?.stringValue == "39.00")
            }
            try await client.execute(uri: "/api/v1/prices", method: .put, headers: headers(finance),
                                     body: body(#"{"course_id": "\#(Self.mit)", "mode": "verified", "currency": "EUR", "price": "20.00"}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/prices", method: .get, headers: bearer(finance)) { response in
                let listed = response.json?["prices"]?.arrayValue ?? []
                #expect(listed.count == 2, "\(response.text)")
                #expect(listed.first { $0["course_id"]?.stringValue == Self.demo }?["price"]?.stringValue == "49.50")
            }
            try await client.execute(uri: "/api/v1/prices?course_id=\(Self.mit.replacingOccurrences(of: "+", with: "%2B"))", method: .get,
                                     headers: bearer(finance)) { response in
                #expect(response.json?["prices"]?.arrayValue?.compactMap { $0["course_id"]?.stringValue } == [Self.mit], "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/prices?course_id=\(Self.demo)&mode=verified&currency=usd", method: .delete,
                                     headers: bearer(finance)) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?["removed"]?.arrayValue?.first?["price"]?.stringValue == "49.50")
            }
            try await client.execute(uri: "/api/v1/prices?course_id=\(Self.demo)&mode=verified", method: .delete,
                                     headers: bearer(finance)) { response in
                #expect(response.status == .notFound && response.json?["error"]?.stringValue == "unknown_price", "\(response.text)")
            }
        }
        #expect(try await harness.store.prices(courseIDs: nil) == [ListedPrice(courseID: Self.mit, mode: "verified", currency: "EUR", price: 20)])
        let trail = try audit(harness, prefix: "price.")
        #expect(trail.map { $0[0] } == Array(repeating: "api:finance", count: 4))
        #expect(trail.map { $0[1] } == ["price.set", "price.set", "price.set", "price.remove"])
        #expect(trail[1][2] == "\(Self.demo) verified: 49.50 USD (was 39.00)", "\(trail)")
    }

    @Test func badPricesAreRefusedAndNothingIsStored() async throws {
        let harness = try ServerHarness()
        let finance = try await harness.store.createToken(name: "finance", role: .financeAdmin)
        try await harness.test { client in
            let refusals: [(String, HTTPResponse.Status, String, String)] = [
                ("{", .badRequest, "malformed_json", "JSON object"),
                (#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "USD"}"#, .badRequest, "missing_field", "price is missing"),
                (#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "USD", "price": true}"#, .badRequest, "missing_field", "price"),
                (#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "USD", "price": "4.999"}"#, .unprocessableContent, "invalid_price",
                 "price \"4.999\" is not an amount"),
                (#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "USD", "price": "-1"}"#, .unprocessableContent, "invalid_price",
                 "price \"-1\""),
                (#"{"course_id": "DemoX", "mode": "verified", "currency": "USD", "price": "1"}"#, .unprocessableContent, "invalid_price",
                 "is not a course run key"),
                (#"{"course_id": "\#(Self.demo)", "mode": "very fied", "currency": "USD", "price": "1"}"#, .unprocessableContent, "invalid_price",
                 "is not a course mode"),
                (#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "dollars", "price": "1"}"#, .unprocessableContent, "invalid_price",
                 "three-letter"),
            ]
            for (text, status, code, message) in refusals {
                try await client.execute(uri: "/api/v1/prices", method: .put, headers: headers(finance), body: body(text)) { response in
                    #expect(response.status == status, "\(text): \(response.text)")
                    #expect(response.json?["error"]?.stringValue == code, "\(text): \(response.text)")
                    #expect(response.json?["message"]?.stringValue?.contains(message) == true, "\(text): \(response.text)")
                }
            }
            try await client.execute(uri: "/api/v1/prices?course_id=\(Self.demo)", method: .delete, headers: bearer(finance)) { response in
                #expect(response.status == .badRequest && response.json?["error"]?.stringValue == "missing_field", "\(response.text)")
            }
        }
        #expect(try await harness.store.prices(courseIDs: nil).isEmpty)
        #expect(try audit(harness, prefix: "price.").isEmpty)
    }

    @Test func aScopedFinanceTokenSeesAndChangesOnlyItsCourses() async throws {
        let harness = try ServerHarness()
        let scoped = try await harness.store.createToken(name: "mitx-finance", role: .financeAdmin, scope: ["course-v1:MITx+"])
        _ = try await harness.store.setPrice(ListedPrice(courseID: Self.demo, mode: "verified", currency: "USD", price: 49), actor: "test")
        _ = try await harness.store.setPrice(ListedPrice(courseID: Self.mit, mode: "verified", currency: "USD", price: 99), actor: "test")
        try await harness.test { client in
            try await client.execute(uri: "/api/v1/prices", method: .get, headers: bearer(scoped)) { response in
                #expect(response.json?["prices"]?.arrayValue?.compactMap { $0["course_id"]?.stringValue } == [Self.mit], "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/prices?course_id=\(Self.demo)", method: .get, headers: bearer(scoped)) { response in
                #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "out_of_scope", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/prices", method: .put, headers: headers(scoped),
                                     body: body(#"{"course_id": "\#(Self.demo)", "mode": "verified", "currency": "USD", "price": "1.00"}"#)) { response in
                #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "out_of_scope", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/prices?course_id=\(Self.demo)&mode=verified", method: .delete, headers: bearer(scoped)) { response in
                #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "out_of_scope", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/prices", method: .put, headers: headers(scoped),
                                     body: body(#"{"course_id": "\#(Self.mit)", "mode": "verified", "currency": "USD", "price": "89.00"}"#)) { response in
                #expect(response.status == .ok && response.json?["previous"]?.stringValue == "99.00", "\(response.text)")
            }
        }
        let prices = try await harness.store.prices(courseIDs: nil)
        #expect(prices.map(\.courseID) == [Self.mit, Self.demo] && prices.map(\.price) == [89, 49], "the out-of-scope price is untouched")
        #expect(try audit(harness, prefix: "price.").map { $0[0] } == ["test", "test", "api:mitx-finance"])
    }

    @Test func salesAdminsCreateListShowAndDeactivateCoupons() async throws {
        let harness = try ServerHarness()
        let sales = try await harness.store.createToken(name: "sales", role: .salesAdmin)
        let others = [try await harness.store.createToken(name: "shop", role: .storefront),
                      try await harness.store.createToken(name: "ops", role: .ops),
                      try await harness.store.createToken(name: "finance", role: .financeAdmin)]
        try await harness.test { client in
            for token in others {
                try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers(token),
                                         body: body(#"{"code": "NOPE", "percent": "10"}"#)) { response in
                    #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "wrong_role", "\(response.text)")
                }
                try await client.execute(uri: "/api/v1/coupons", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == .forbidden)
                }
            }
            try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers(sales),
                                     body: body(#"{"code": "spring-26", "percent": 20, "courses": ["course-v1:MITx+"], "expires": "2099-06-30", "max_uses": 100, "description": "spring sale"}"#)) { response in
                #expect(response.status == .created, "\(response.text)")
                let json = response.json
                #expect(json?["code"]?.stringValue == "SPRING-26" && json?["percent"]?.stringValue == "20" && json?["amount"] == .null)
                #expect(json?["off"]?.stringValue == "20%" && json?["courses"] == .array([.string("course-v1:MITx+")]))
                #expect(json?["expires"]?.stringValue == "2099-06-30" && json?["max_uses"] == .number(100))
                #expect(json?["used"] == .number(0) && json?["held"] == .number(0) && json?["active"] == .bool(true))
                #expect(json?["description"]?.stringValue == "spring sale" && json?["created_by"]?.stringValue == "api:sales")
                #expect(json?["created_at"]?.stringValue != nil)
            }
            try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers(sales),
                                     body: body(#"{"code": "TENOFF", "amount": "10", "currency": "usd"}"#)) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?["amount"]?.stringValue == "10.00" && response.json?["currency"]?.stringValue == "USD")
                #expect(response.json?["percent"] == .null && response.json?["courses"] == .array([]) && response.json?["max_uses"] == .null)
            }
            try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers(sales),
                                     body: body(#"{"code": "Spring-26", "percent": "5"}"#)) { response in
                #expect(response.status == .conflict && response.json?["error"]?.stringValue == "coupon_exists", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/coupons", method: .get, headers: bearer(sales)) { response in
                #expect(Set(response.json?["coupons"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []) == ["SPRING-26", "TENOFF"],
                        "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/coupons/spring-26", method: .get, headers: bearer(sales)) { response in
                #expect(response.status == .ok && response.json?["code"]?.stringValue == "SPRING-26", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/coupons/NOSUCH", method: .get, headers: bearer(sales)) { response in
                #expect(response.status == .notFound && response.json?["error"]?.stringValue == "unknown_coupon", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/coupons/tenoff/deactivate", method: .post, headers: bearer(sales)) { response in
                #expect(response.status == .ok && response.json?["active"] == .bool(false), "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/coupons/NOSUCH/deactivate", method: .post, headers: bearer(sales)) { response in
                #expect(response.status == .notFound, "\(response.text)")
            }
        }
        #expect(try await harness.store.coupon(code: "TENOFF")?.coupon.active == false)
        let trail = try audit(harness, prefix: "coupon.")
        #expect(trail.map { $0[1] } == ["coupon.create", "coupon.create", "coupon.deactivate"], "\(trail)")
        #expect(trail.allSatisfy { $0[0] == "api:sales" })
    }

    @Test func badCouponsAreRefusedAndNothingIsStored() async throws {
        let harness = try ServerHarness()
        let sales = try await harness.store.createToken(name: "sales", role: .salesAdmin)
        try await harness.test { client in
            let refusals: [(String, HTTPResponse.Status, String)] = [
                ("[1]", .badRequest, "JSON object"),
                (#"{"percent": "10"}"#, .badRequest, "code is required"),
                (#"{"code": "BAD CODE", "percent": "10"}"#, .badRequest, "must be 1 to 32 letters"),
                (#"{"code": "X"}"#, .badRequest, "percent or amount"),
                (#"{"code": "X", "percent": "10", "amount": "5", "currency": "USD"}"#, .badRequest, "percent or amount, not both"),
                (#"{"code": "X", "percent": "150"}"#, .badRequest, "at most 100"),
                (#"{"code": "X", "percent": true}"#, .badRequest, "percent must be a number or a decimal string"),
                (#"{"code": "X", "amount": "5"}"#, .badRequest, "needs its currency"),
                (#"{"code": "X", "percent": "10", "courses": "course-v1:MITx+"}"#, .badRequest, "courses must be a list"),
                (#"{"code": "X", "percent": "10", "courses": ["MITx"]}"#, .badRequest, "is not a course run key"),
                (#"{"code": "X", "percent": "10", "expires": "next week"}"#, .badRequest, "is not a day"),
                (#"{"code": "X", "percent": "10", "max_uses": "5"}"#, .badRequest, "max_uses must be a whole number"),
                (#"{"code": "X", "percent": "10", "max_uses": 0}"#, .badRequest, "max_uses must be at least 1"),
            ]
            for (text, status, message) in refusals {
                try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers(sales), body: body(text)) { response in
                    #expect(response.status == status, "\(text): \(response.text)")
                    #expect(response.json?["message"]?.stringValue?.contains(message) == true, "\(text): \(response.text)")
                }
            }
        }
        #expect(try await harness.store.coupons().isEmpty)
        #expect(try audit(harness, prefix: "coupon.").isEmpty)
    }

    @Test func aScopedSalesTokenMakesAndSeesOnlyCouponsWithinItsCourses() async throws {
        let harness = try ServerHarness()
        let scoped = try await harness.store.createToken(name: "mitx-sales", role: .salesAdmin, scope: ["course-v1:MITx+"])
        try await harness.store.createCoupon(Coupon(code: "EVERYTHING", kind: .percent(10)), description: nil, actor: "test")
        try await harness.store.createCoupon(Coupon(code: "DEMO", kind: .percent(10), courses: [Self.demo]), description: nil, actor: "test")
        try await harness.test { client in
            for courses in [#""#, #", "courses": []"#, #", "courses": ["\#(Self.mit)", "\#(Self.demo)"]"#, #", "courses": ["course-v1:MIT+"]"#] {
                try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers(scoped),
                                         body: body(#"{"code": "WIDE", "percent": "10"\#(courses)}"#)) { response in
                    #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "out_of_scope", "\(courses): \(response.text)")
                }
            }
            try await client.execute(uri: "/api/v1/coupons", method: .post, headers: headers(scoped),
                                     body: body(#"{"code": "MIT", "percent": "10", "courses": ["\#(Self.mit)", "course-v1:MITx+"]}"#)) { response in
                #expect(response.status == .created, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/coupons", method: .get, headers: bearer(scoped)) { response in
                #expect(response.json?["coupons"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == ["MIT"], "\(response.text)")
            }
            for code in ["DEMO", "EVERYTHING"] {
                try await client.execute(uri: "/api/v1/coupons/\(code)", method: .get, headers: bearer(scoped)) { response in
                    #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "out_of_scope", "\(response.text)")
                }
                try await client.execute(uri: "/api/v1/coupons/\(code)/deactivate", method: .post, headers: bearer(scoped)) { response in
                    #expect(response.status == .forbidden, "\(response.text)")
                }
            }
        }
        let coupons = try await harness.store.coupons()
        #expect(Set(coupons.map(\.coupon.code)) == ["EVERYTHING", "DEMO", "MIT"])
        #expect(coupons.allSatisfy { $0.coupon.active })
    }
}
