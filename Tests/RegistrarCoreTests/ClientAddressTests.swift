import Foundation
import RegistrarCore
import Testing

/// Which address a request's rejections count against, and the budget per address.
@Suite struct ClientAddressTests {
    @Test func addressesAndBlocksParseAndMatch() throws {
        let block = try #require(AddressBlock("10.0.0.0/8"))
        #expect(block.contains(try #require(IPAddress("10.200.3.4"))))
        #expect(!block.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(try #require(AddressBlock("192.0.2.7")).contains(try #require(IPAddress("192.0.2.7"))))
        #expect(!(try #require(AddressBlock("192.0.2.7"))).contains(try #require(IPAddress("192.0.2.8"))))
        let v6 = try #require(AddressBlock("2001:db8::/32"))
        let inside = try #require(IPAddress("2001:db8:1::5"))
        let outside = try #require(IPAddress("2001:db9::1"))
        #expect(v6.contains(inside) && !v6.contains(outside))
        // An IPv4-mapped IPv6 peer is the IPv4 address.
        #expect(block.contains(try #require(IPAddress("::ffff:10.1.2.3"))))
        #expect(IPAddress("::ffff:10.1.2.3")?.description == "10.1.2.3")
        #expect(try #require(AddressBlock("0.0.0.0/0")).contains(try #require(IPAddress("203.0.113.9"))))
        for bad in ["", "10.0.0.0/33", "10.0.0/8", "example.com", "10.0.0.0/x", "1.2.3.4/8/9", "::1/129"] {
            #expect(AddressBlock(bad) == nil, "\(bad)")
        }
    }

    @Test func anUntrustedPeerIsCountedByItsOwnAddressWhateverItForwards() {
        let resolver = ClientAddressResolver(trustedProxies: ["127.0.0.1"])
        #expect(resolver.resolve(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"]) == "203.0.113.9")
        #expect(resolver.resolve(peer: nil, forwardedFor: ["198.51.100.1"]) == "unknown")
    }

    @Test func aTrustedProxyIsWalkedFromTheRightPastEveryTrustedHop() {
        let resolver = ClientAddressResolver(trustedProxies: ["127.0.0.1", "10.0.0.0/8"])
        // The client wrote "1.1.1.1" itself; the proxy appended the address it saw.
        #expect(resolver.resolve(peer: "127.0.0.1", forwardedFor: ["1.1.1.1, 203.0.113.9"]) == "203.0.113.9")
        // Two proxies in a row, across two header lines.
        #expect(resolver.resolve(peer: "127.0.0.1", forwardedFor: ["1.1.1.1, 203.0.113.9", "10.2.3.4"]) == "203.0.113.9")
        // Garbage stops the walk at the last address that was sound.
        #expect(resolver.resolve(peer: "127.0.0.1", forwardedFor: ["unknown"]) == "127.0.0.1")
        #expect(resolver.resolve(peer: "127.0.0.1", forwardedFor: ["203.0.113.9:4711"]) == "203.0.113.9")
        #expect(resolver.resolve(peer: "127.0.0.1", forwardedFor: ["[2001:db8::1]:443"]) == "2001:db8:0:0:0:0:0:1")
        #expect(resolver.resolve(peer: "127.0.0.1", forwardedFor: []) == "127.0.0.1")
    }

    @Test func theBudgetAdmitsNPerMinutePerClient() {
        var budget = RejectionBudget(perMinute: 3)
        let start = Date(timeIntervalSince1970: 1_800_000_000) // on a minute boundary
        func admit(_ client: String, _ second: Double) -> Bool { budget.admit(client, at: start.addingTimeInterval(second)) }
        #expect((0..<5).map { admit("a", Double($0)) } == [true, true, true, false, false])
        // Another client has its own budget.
        let other = admit("b", 5)
        #expect(other)
        // The previous minute weighs less as the new one goes on: all of it just after the turn, none a minute on.
        let justAfterTheTurn = admit("a", 60)
        let nearlyAMinuteOn = admit("a", 119)
        let later = [admit("a", 300), admit("a", 301)]
        #expect(!justAfterTheTurn && nearlyAMinuteOn && later == [true, true])
    }

    @Test func theBudgetForgetsAddressesRatherThanGrowWithoutBound() {
        var budget = RejectionBudget(perMinute: 1, maxTracked: 100)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 0..<1_000 { _ = budget.admit("10.0.\(index / 256).\(index % 256)", at: now) }
        #expect(budget.trackedCount <= 100)
    }
}

@Suite struct LogSafetyTests {
    @Test func controlCharactersAreEscapedAndTheRestKept() {
        #expect(ControlCharacterEscaping.escaped("a@example.com\n2026 info forged") == "a@example.com\\n2026 info forged")
        #expect(ControlCharacterEscaping.escaped("a\rb\tc\u{1B}[2J\u{7F}\u{85}\u{2028}") == "a\\rb\\tc\\u{1B}[2J\\u{7F}\\u{85}\\u{2028}")
        #expect(ControlCharacterEscaping.escaped("Zoë — 東京 ok") == "Zoë — 東京 ok")
        #expect(ControlCharacterEscaping.escaped("") == "")
    }

    @Test func emailsAreOneLineOfPrintableText() {
        #expect(EmailAddressRule.problem("Ann@Example.com") == nil)
        #expect(EmailAddressRule.problem("  ann@example.com ") == nil)
        #expect(EmailAddressRule.problem("ann@example.com\nforged")?.contains("line break") == true)
        #expect(EmailAddressRule.problem("ann@example.com\nforged")?.contains("\\n") == true)
        #expect(EmailAddressRule.problem("ann\u{0}@example.com") != nil)
        #expect(EmailAddressRule.problem("ann @example.com")?.contains("space") == true)
        for bad in ["", "ann", "@example.com", "ann@", "a@b@c", String(repeating: "a", count: 250) + "@example.com"] {
            #expect(EmailAddressRule.problem(bad) != nil, "\(bad)")
        }
    }

    @Test func storefrontsReadTheirOwnOrdersOnly() {
        #expect(OrderVisibility.canRead(role: .storefront, tokenName: "shop", createdBy: "shop"))
        #expect(!OrderVisibility.canRead(role: .storefront, tokenName: "shop", createdBy: "other"))
        #expect(!OrderVisibility.canRead(role: .storefront, tokenName: "shop", createdBy: nil))
        #expect(OrderVisibility.canRead(role: .ops, tokenName: "ops", createdBy: "shop"))
        #expect(OrderVisibility.canRead(role: .financeAdmin, tokenName: "f", createdBy: nil))
        #expect(!OrderVisibility.canRead(role: .salesAdmin, tokenName: "s", createdBy: "s"))
    }
}
