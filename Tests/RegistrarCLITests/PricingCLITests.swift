import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

/// `registrar prices`, `registrar coupons` and `tokens create --may-set-prices` on a real database.
@Suite struct PricingCLITests {
    static let demo = "course-v1:edX+DemoX+2026"

    @Test func operatorsSetListAndRemovePrices() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let store = try openStore(dir)
        let set = ["prices", "set", "--course", Self.demo, "--mode", "verified", "--currency", "usd", "--price"]

        let first = try await runRegistrar(set + ["39"], database: database)
        #expect(first.status == 0 && first.output.contains("\(Self.demo) verified: 39.00 USD (new)"), "\(first.output)")
        let changed = try await runRegistrar(set + ["49.00"], database: database)
        #expect(changed.status == 0 && changed.output.contains("\(Self.demo) verified: 49.00 USD (was 39.00 USD)"), "\(changed.output)")

        for (price, sentence) in [("4.999", "price \"4.999\" is not an amount like 49.00"), ("-1", "price \"-1\"")] {
            let refused = try await runRegistrar(set.dropLast() + ["--price=\(price)"], database: database)
            #expect(refused.status == 1 && refused.output.contains(sentence), "\(refused.output)")
        }
        let badCourse = try await runRegistrar(["prices", "set", "--course", "DemoX", "--mode", "verified", "--currency", "USD", "--price", "1"],
                                               database: database)
        #expect(badCourse.status == 1 && badCourse.output.contains("is not a course run key"), "\(badCourse.output)")
        #expect(try await store.prices(courseIDs: nil) == [ListedPrice(courseID: Self.demo, mode: "verified", currency: "USD", price: 49)])

        let table = try await runRegistrar(["prices", "list"], database: database)
        #expect(table.status == 0 && table.output.contains("COURSE RUN") && table.output.contains("49.00 USD"), "\(table.output)")
        let json = try await runRegistrar(["prices", "list", "--json"], database: database)
        #expect(JSONValue.parse(json.output) == .array([.object(["course_id": .string(Self.demo), "mode": .string("verified"),
                                                                 "currency": .string("USD"), "price": .string("49.00")])]), "\(json.output)")

        let removed = try await runRegistrar(["prices", "remove", "--course", Self.demo, "--mode", "verified"], database: database)
        #expect(removed.status == 0 && removed.output.contains("49.00 USD removed"), "\(removed.output)")
        let again = try await runRegistrar(["prices", "remove", "--course", Self.demo, "--mode", "verified", "--currency", "usd"], database: database)
        #expect(again.status == 1 && again.output.contains("no price is listed for \(Self.demo) verified in USD"), "\(again.output)")
        let empty = try await runRegistrar(["prices", "list"], database: database)
        #expect(empty.output.contains("no prices listed"))
    }

    @Test func operatorsCreateListShowAndDeactivateCoupons() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let store = try openStore(dir)

        let made = try await runRegistrar(["coupons", "create", "spring-26", "--percent", "20", "--course", "course-v1:MITx+",
                                           "--expires", "2099-06-30", "--max-uses", "100", "--description", "spring sale"], database: database)
        #expect(made.status == 0 && made.output.contains("coupon SPRING-26: 20% off course-v1:MITx+, until 2099-06-30, at most 100 uses"),
                "\(made.output)")
        let amount = try await runRegistrar(["coupons", "create", "TENOFF", "--amount", "10", "--currency", "usd"], database: database)
        #expect(amount.status == 0 && amount.output.contains("coupon TENOFF: 10.00 USD off all courses"), "\(amount.output)")

        let refusals: [([String], String)] = [
            (["SPRING-26", "--percent", "5"], "a coupon SPRING-26 exists already"),
            (["X", "--percent", "10", "--amount", "5", "--currency", "USD"], "percent or amount, not both"),
            (["X"], "say how much it takes off"),
            (["X", "--percent", "101"], "must be a number above 0 and at most 100"),
            (["X", "--amount", "5"], "an amount off needs its currency"),
            (["X", "--percent", "10", "--course", "MITx"], "is not a course run key"),
            (["X", "--percent", "10", "--expires", "soon"], "is not a day like"),
            (["X", "--percent", "10", "--max-uses", "0"], "max-uses must be at least 1"),
            (["NOT A CODE", "--percent", "10"], "must be 1 to 32 letters"),
        ]
        for (arguments, sentence) in refusals {
            let refused = try await runRegistrar(["coupons", "create"] + arguments, database: database)
            #expect(refused.status == 1 && refused.output.contains(sentence), "\(arguments): \(refused.output)")
        }
        #expect(try await store.coupons().count == 2)

        let table = try await runRegistrar(["coupons", "list"], database: database)
        #expect(table.status == 0, "\(table.output)")
        for text in ["MAX USES", "SPRING-26", "20%", "course-v1:MITx+", "2099-06-30", "spring sale", "10.00 USD", "all courses"] {
            #expect(table.output.contains(text), "\(text): \(table.output)")
        }
        let json = try await runRegistrar(["coupons", "list", "--json"], database: database)
        let listed = try #require(JSONValue.parse(json.output)?.arrayValue, "\(json.output)")
        let spring = try #require(listed.first { $0["code"]?.stringValue == "SPRING-26" })
        #expect(spring["percent"]?.stringValue == "20" && spring["max_uses"] == .number(100) && spring["used"] == .number(0))
        #expect(spring["created_by"]?.stringValue?.hasPrefix("cli:") == true)

        let show = try await runRegistrar(["coupons", "show", "spring-26"], database: database)
        #expect(show.status == 0 && show.output.contains("coupon SPRING-26  active") && show.output.contains("description: spring sale"),
                "\(show.output)")
        let showJSON = try await runRegistrar(["coupons", "show", "tenoff", "--json"], database: database)
        #expect(JSONValue.parse(showJSON.output)?["amount"]?.stringValue == "10.00", "\(showJSON.output)")
        let unknown = try await runRegistrar(["coupons", "show", "NOSUCH"], database: database)
        #expect(unknown.status == 1 && unknown.output.contains("no coupon NOSUCH"), "\(unknown.output)")

        let deactivated = try await runRegistrar(["coupons", "deactivate", "tenoff"], database: database)
        #expect(deactivated.status == 0 && deactivated.output.contains("coupon TENOFF deactivated"), "\(deactivated.output)")
        #expect(try await store.coupon(code: "TENOFF")?.coupon.active == false)
        let missing = try await runRegistrar(["coupons", "deactivate", "NOSUCH"], database: database)
        #expect(missing.status == 1 && missing.output.contains("no coupon NOSUCH"), "\(missing.output)")
    }

    @Test func onlyStorefrontTokensMaySetPrices() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let refused = try await runRegistrar(["tokens", "create", "--name", "fin", "--role", "finance_admin", "--may-set-prices"], database: database)
        #expect(refused.status == 64 && refused.output.contains("--may-set-prices is for storefront tokens"), "\(refused.output)")
        let made = try await runRegistrar(["tokens", "create", "--name", "shop", "--role", "storefront", "--may-set-prices"], database: database)
        #expect(made.status == 0 && made.output.contains("may set prices"), "\(made.output)")
        let plain = try await runRegistrar(["tokens", "create", "--name", "shop2", "--role", "storefront", "--json"], database: database)
        #expect(JSONValue.parse(plain.output)?["may_set_prices"] == .bool(false), "\(plain.output)")

        let listed = try await runRegistrar(["tokens", "list", "--json"], database: database)
        let tokens = try #require(JSONValue.parse(listed.output)?.arrayValue, "\(listed.output)")
        #expect(tokens.map { $0["name"]?.stringValue } == ["shop", "shop2"])
        #expect(tokens.map { $0["may_set_prices"] } == [.bool(true), .bool(false)])
        let table = try await runRegistrar(["tokens", "list"], database: database)
        let row = table.output.split(separator: "\n").first { $0.hasPrefix("shop ") }
        #expect(table.output.contains("SETS PRICES") && row?.contains("yes") == true, "\(table.output)")
    }
}
