import RegistrarCore
import Testing

/// The pure pieces of catch-up around the walk: splitting a listed page, reading the webhooks list, `--since`,
/// and which listed states intake has already taken.
@Suite struct WooCatchUpRulesTests {
    func elements(_ text: String) -> [String]? {
        let bytes = Array(text.utf8)
        guard case .success(let ranges) = JSONArrayElements.ranges(bytes) else { return nil }
        return ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func splitsAnArrayIntoItsElementsExactBytes() {
        #expect(elements("[]") == [])
        #expect(elements(" [ ] \n") == [])
        #expect(elements(#"[{"id":1,"s":"a,]}\"b"}, {"id":2,"l":[1,[2]]} ,3,"x"]"#)
                == [#"{"id":1,"s":"a,]}\"b"}"#, #"{"id":2,"l":[1,[2]]}"#, "3", #""x""#])
        #expect(elements("\u{FEFF}[{\"id\":\\u0031}]") == ["{\"id\":\\u0031}"])
        #expect(elements(#"[{"s":"\\"}]"#) == [#"{"s":"\\"}"#])
    }

    @Test func refusesWhatIsNotAnArray() {
        for text in ["", "{}", "<html>", "[", "[{]", "[1,]", "[1 2]x", "[1] x", #"["open]"#, "[,1]", "[1}"] {
            guard case .failure = JSONArrayElements.ranges(Array(text.utf8)) else {
                Issue.record("accepted \(text)")
                continue
            }
        }
    }

    @Test func findsTheWebhooksThatDeliverHere() {
        let listed: [JSONValue] = [
            .object(["id": .number(3), "name": .string("Registrar"), "status": .string("disabled"), "topic": .string("order.updated"),
                     "delivery_url": .string("https://registrar.example.edu/webhooks/woocommerce/main")]),
            .object(["id": .number(1), "name": .string("Mailer"), "status": .string("active"), "topic": .string("order.created"),
                     "delivery_url": .string("https://mail.example.com/hook")]),
            .object(["id": .number(2), "name": .string("Registrar 2"), "status": .string("active"), "topic": .string("order.updated"),
                     "delivery_url": .string("http://10.0.0.5:8080/webhooks/woocommerce/main/?x=1")]),
            .object(["id": .number(4), "status": .string("active"), "delivery_url": .string("https://r.example.edu/webhooks/woocommerce/mainly")]),
        ]
        let health = WooWebhookHealth.assess(listed, store: "main")
        #expect(health.webhooks.map(\.id) == [2, 3])
        #expect(health.problems.count == 1)
        #expect(health.problems[0].contains("webhook 3 \"Registrar\" (order.updated) of store \"main\" is disabled"))
        #expect(health.problems[0].contains("re-enable"))

        let none = WooWebhookHealth.assess(Array(listed.prefix(2).suffix(1)), store: "main")
        #expect(none.webhooks.isEmpty)
        #expect(none.problems.count == 1)
        #expect(none.problems[0].contains("no webhook of store \"main\" delivers to /webhooks/woocommerce/main"))

        let fine = WooWebhookHealth.assess([listed[2]], store: "main")
        #expect(fine.problems.isEmpty)
        #expect(fine.webhooks.first?.isActive == true)
    }

    @Test func readsSinceAsADurationOrADate() {
        let now = WooModifiedTime("2026-12-03T12:00:00")!
        func since(_ text: String) -> String? {
            if case .success(let instant) = CatchUpSince.parse(text, now: now) { return instant.canonical }
            return nil
        }
        #expect(since("2d") == "2026-12-01T12:00:00")
        #expect(since("12h") == "2026-12-03T00:00:00")
        #expect(since("30m") == "2026-12-03T11:30:00")
        #expect(since("90s") == "2026-12-03T11:58:30")
        #expect(since("2026-11-20") == "2026-11-20T00:00:00")
        #expect(since("2026-11-20T13:05:00") == "2026-11-20T13:05:00")
        #expect(since("2026-11-20 13:05:00") == "2026-11-20T13:05:00")
        for bad in ["", "yesterday", "2w", "-2d", "d", "2026-13-01", "12"] {
            #expect(since(bad) == nil, "accepted \(bad)")
        }
        if case .failure(let problem) = CatchUpSince.parse("soon", now: now) {
            #expect(problem.message.contains("\"soon\" is neither a duration"))
        } else {
            Issue.record("accepted soon")
        }
    }

    @Test func aListedStateIsSeenWhenNoNewerThanTheNewestTaken() {
        let memory = WooOrderMemory(newestModifiedGMT: "2026-12-01T12:00:00")
        #expect(memory.hasSeen(modifiedGMT: "2026-12-01T12:00:00"))
        #expect(memory.hasSeen(modifiedGMT: "2026-12-01 11:59:59"))
        #expect(!memory.hasSeen(modifiedGMT: "2026-12-01 12:00:01"))
        // Undated: the oldest state, as the staleness rule has it.
        #expect(memory.hasSeen(modifiedGMT: nil))
        #expect(memory.hasSeen(modifiedGMT: "garbage"))
        // Nothing taken yet: nothing is seen.
        #expect(!WooOrderMemory().hasSeen(modifiedGMT: "2026-12-01T12:00:00"))
        #expect(!WooOrderMemory().hasSeen(modifiedGMT: nil))
    }

    @Test func catchUpJobsAreOnePerIntervalAndOneAtATimePerStore() {
        #expect(WooKeys.catchUp(store: "main", slot: 5_000_000) == "woocommerce.catch-up:main:5000000")
        #expect(WooKeys.catchUpSerial(store: "main") == "woocommerce.catch-up:main")
        #expect(WooCatchUpPayload(store: "main", since: nil).jsonText == #"{"store":"main"}"#)
        #expect(WooCatchUpPayload(store: "main", since: "2026-12-01T00:00:00").jsonText
                == #"{"since":"2026-12-01T00:00:00","store":"main"}"#)
    }
}
