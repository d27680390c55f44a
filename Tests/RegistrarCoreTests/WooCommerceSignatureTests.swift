import Foundation
import RegistrarCore
import Testing

/// Expected MACs were computed with `openssl dgst -sha256 -hmac KEY -binary | base64` and hard-coded, so these tests
/// do not trust the code they check.
@Suite struct WooCommerceSignatureTests {
    let secret = Secret("wh-secret")
    let hello = Array("hello".utf8)

    @Test func acceptsOpenSSLVectorsOverFixtureBytes() throws {
        let deleted = try WooFixtures.bytes("order-deleted.json")
        #expect(WooWebhookSignature.isValid(body: deleted, signature: "rH9z7R7cX7yLCMENiFeCctifFhGOI/i07R6BAdvXiA0=", secret: secret))
        let order = try WooFixtures.bytes("order-727-processing.json")
        #expect(WooWebhookSignature.isValid(body: order, signature: "roZFUgWtsPc34Ph3B6CdHBDy5jtXtdrbg53ameHRC6I=", secret: secret))
        #expect(WooWebhookSignature.isValid(body: hello, signature: "/iYjVmIhQ5lkc+/5CSyqSW/isp9c1Br5KCQprXTSWlY=", secret: secret))
        #expect(WooWebhookSignature.isValid(body: [], signature: "A2vTveRO2pzaCKHT1g4HKRHguu2DbN1vngyFU0odpew=", secret: secret))
    }

    @Test func signMatchesOpenSSL() throws {
        #expect(WooWebhookSignature.sign(body: try WooFixtures.bytes("order-deleted.json"), secret: secret)
            == "rH9z7R7cX7yLCMENiFeCctifFhGOI/i07R6BAdvXiA0=")
        #expect(WooWebhookSignature.sign(body: hello, secret: secret) == "/iYjVmIhQ5lkc+/5CSyqSW/isp9c1Br5KCQprXTSWlY=")
        #expect(WooWebhookSignature.sign(body: [], secret: secret) == "A2vTveRO2pzaCKHT1g4HKRHguu2DbN1vngyFU0odpew=")
    }

    /// The MAC is over the exact bytes: the `\/` and `\u00e9` escapes WooCommerce writes are part of them.
    @Test func escapedBodyIsSignedAsSent() {
        let sent = Array(#"{"k":"caf\u00e9 \/x"}"#.utf8)
        let reserialised = Array(#"{"k":"café /x"}"#.utf8)
        let key = Secret(#"q&#039;&quot;&lt;&gt;&amp;z"#)
        #expect(WooWebhookSignature.isValid(body: sent, signature: "M1ir0PkPfn0dKrBhyl5YHiSDHzWoJqCgMBNiQ+bsaJw=", secret: key))
        #expect(!WooWebhookSignature.isValid(body: reserialised, signature: "M1ir0PkPfn0dKrBhyl5YHiSDHzWoJqCgMBNiQ+bsaJw=", secret: key))
    }

    @Test func anyTamperedByteFails() throws {
        let body = try WooFixtures.bytes("order-727-processing.json")
        let signature = "roZFUgWtsPc34Ph3B6CdHBDy5jtXtdrbg53ameHRC6I="
        for position in [0, 1, body.count / 2, body.count - 1] {
            var tampered = body
            tampered[position] ^= 0x01
            #expect(!WooWebhookSignature.isValid(body: tampered, signature: signature, secret: secret), "byte \(position)")
        }
        #expect(!WooWebhookSignature.isValid(body: body + [0x0A], signature: signature, secret: secret))
        #expect(!WooWebhookSignature.isValid(body: Array(body.dropLast()), signature: signature, secret: secret))
    }

    /// One verifier serves every delivery of a store, concurrently: each check must start from the key alone,
    /// whatever checks came before or run beside it.
    @Test func aVerifierKeepsNoStateBetweenChecks() async throws {
        let verifier = WooWebhookSignature.Verifier(secret: secret)
        let order = try WooFixtures.bytes("order-727-processing.json")
        let cases: [([UInt8], String, Bool)] = [
            (order, "roZFUgWtsPc34Ph3B6CdHBDy5jtXtdrbg53ameHRC6I=", true),
            (hello, "/iYjVmIhQ5lkc+/5CSyqSW/isp9c1Br5KCQprXTSWlY=", true),
            (hello, "roZFUgWtsPc34Ph3B6CdHBDy5jtXtdrbg53ameHRC6I=", false),
            ([], "A2vTveRO2pzaCKHT1g4HKRHguu2DbN1vngyFU0odpew=", true),
            (order + [0x0A], "roZFUgWtsPc34Ph3B6CdHBDy5jtXtdrbg53ameHRC6I=", false),
        ]
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for round in 0..<200 {
                        let (body, signature, valid) = cases[(task + round) % cases.count]
                        if verifier.isValid(body: body, signature: signature) != valid { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
        #expect(!WooWebhookSignature.Verifier(secret: Secret("")).isValid(body: hello, signature: WooWebhookSignature.sign(body: hello, secret: Secret(""))))
    }

    @Test func wrongSecretFails() {
        let signature = "/iYjVmIhQ5lkc+/5CSyqSW/isp9c1Br5KCQprXTSWlY="
        #expect(!WooWebhookSignature.isValid(body: hello, signature: signature, secret: Secret("wh-secreT")))
        #expect(!WooWebhookSignature.isValid(body: hello, signature: signature, secret: Secret("wh-secret ")))
    }

    @Test(arguments: [
        nil, "", "   ", "not base64!!", "/iYjVmIhQ5lkc+/5CSyqSW/isp9c1Br5KCQprXTSWlY", // last: padding dropped
        "/iYjVmIhQ5lkc-_5CSyqSW_isp9c1Br5KCQprXTSWlY=", // URL-safe alphabet is not what WooCommerce sends
        "aGVsbG8=", // valid base64, 5 bytes
        "/iYjVmIhQ5lkc+/5CSyqSW/isp9c1Br5KCQprXTSWlYA/iYjVg==", // the MAC with bytes appended
        "A2vTveRO2pzaCKHT1g4HKRHguu2DbN1vngyFU0odpew=", // a valid MAC of another body
    ] as [String?])
    func badHeadersFail(signature: String?) {
        #expect(!WooWebhookSignature.isValid(body: hello, signature: signature, secret: secret))
    }

    @Test func surroundingWhitespaceInTheHeaderIsTolerated() {
        #expect(WooWebhookSignature.isValid(body: hello, signature: " /iYjVmIhQ5lkc+/5CSyqSW/isp9c1Br5KCQprXTSWlY= ", secret: secret))
    }

    @Test func emptySecretNeverAuthenticates() {
        let empty = Secret("")
        #expect(!WooWebhookSignature.isValid(body: hello, signature: WooWebhookSignature.sign(body: hello, secret: empty), secret: empty))
    }

    /// WooCommerce signs with `wp_specialchars_decode($secret, ENT_QUOTES)`.
    @Test func secretIsHTMLEntityDecoded() {
        let aAndB = "ciPFwtUBMn8FUHdrlw43tYV1WEqWk9v/hf/w8u5fQAc=" // key "a&b"
        let literal = "qOjnf/85VToqgGGlLQVdLbVN7PDa7A5wOd6z92niwnU=" // key "a&amp;b"
        #expect(WooWebhookSignature.isValid(body: hello, signature: aAndB, secret: Secret("a&amp;b")))
        #expect(!WooWebhookSignature.isValid(body: hello, signature: literal, secret: Secret("a&amp;b")))
        #expect(WooWebhookSignature.isValid(body: hello, signature: aAndB, secret: Secret("a&b")))
        for form in ["a&#38;b", "a&#038;b", "a&#0038;b", "a&#x26;b", "a&#X26;b", "a&#x026;b"] {
            #expect(WooWebhookSignature.isValid(body: hello, signature: aAndB, secret: Secret(form)), "\(form)")
        }
    }

    @Test func everyQuoteAndBracketFormDecodes() {
        let body = Array(#"{"k":"caf\u00e9 \/x"}"#.utf8)
        let mac = "M1ir0PkPfn0dKrBhyl5YHiSDHzWoJqCgMBNiQ+bsaJw=" // key q'"<>&z
        for form in [#"q&#039;&quot;&lt;&gt;&amp;z"#, #"q&#39;&#34;&#60;&#62;&#38;z"#, #"q&#x27;&#x22;&lt;&gt;&#x26;z"#, #"q'"<>&z"#] {
            #expect(WooWebhookSignature.isValid(body: body, signature: mac, secret: Secret(form)), "\(form)")
        }
    }

    /// What WordPress leaves alone must stay as typed: one pass, named entities case-sensitive, and only the hex
    /// forms of `&`, `"` and `'`.
    @Test func onlyWordPressEntitiesDecode() {
        #expect(WooWebhookSignature.isValid(body: hello, signature: "kjB1lsmbUmAQ1UWTPM8orzPZKbcRxO67PsmnKuzG/bo=", secret: Secret("&amp;lt;")))
        #expect(WooWebhookSignature.isValid(body: hello, signature: "+BKZnjBvgp1FBpTOjgoDnszZi9C7js2KPT4gHUprnW4=", secret: Secret("a&#x3c;b")))
        #expect(WooWebhookSignature.isValid(body: hello, signature: "4C4rl5jCGJnHnWDDyui7Q921RIselY42wP/huA6zARE=", secret: Secret("a&AMP;b")))
    }

    @Test func signatureRoundTrips() {
        let body = Array("x".utf8)
        let signature = WooWebhookSignature.sign(body: body, secret: secret)
        #expect(signature.count == 44 && signature.hasSuffix("="))
        #expect(WooWebhookSignature.isValid(body: body, signature: signature, secret: secret))
    }
}

@Suite struct WooCommercePingTests {
    @Test func fixtureIsAPing() throws {
        #expect(WooPing.webhookID(body: try WooFixtures.bytes("ping.txt")) == 42)
    }

    @Test func readsTheID() {
        #expect(WooPing.webhookID(body: Array("webhook_id=7".utf8)) == 7)
        #expect(WooPing.webhookID(body: Array("webhook_id=123456".utf8)) == 123456)
    }

    @Test(arguments: [
        "", "webhook_id=", "webhook_id=abc", "webhook_id=42\n", "webhook_id=42&x=1", " webhook_id=42",
        "webhook_id=-4", "webhook_id=4 2", "webhook_id=1234567890123456789012", "WEBHOOK_ID=42", "{\"webhook_id\":42}",
        "{\"id\":727}",
    ])
    func otherBodiesAreNotPings(body: String) {
        #expect(WooPing.webhookID(body: Array(body.utf8)) == nil)
    }
}
