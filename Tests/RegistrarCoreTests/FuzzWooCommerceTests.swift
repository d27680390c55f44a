import Foundation
import RegistrarCore
import Testing

/// What a WooCommerce delivery may do to the core, whatever its bytes: a body that is not exactly what was
/// signed never authenticates; a body that does not parse throws `WooParseError` (the server's 400, no job);
/// one that parses only ever becomes well-formed jobs.
@Suite(.timeLimit(.minutes(1)))
struct FuzzWooCommerceTests {
    /// Every fixture webhook body, with the topic it is delivered under. The REST answers and the seed file are
    /// not webhook bodies, but they are real WooCommerce JSON and make good splice material.
    static let corpus: [(topic: String, body: [UInt8])] = {
        let directory = WooFixtures.directory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { $0.hasSuffix(".json") || $0.hasSuffix(".txt") }.map { name in
            let body = Array((try? Data(contentsOf: directory.appendingPathComponent(name))) ?? Data())
            let topic = switch name {
            case "order-deleted.json": "order.deleted"
            case "action-order-refunded.json": "action.woocommerce_order_refunded"
            case _ where name.hasPrefix("order-800") || name.hasPrefix("order-801"): "order.created"
            case _ where name.hasPrefix("order-"): "order.updated"
            default: "product.updated"
            }
            return (topic, body)
        }
    }()

    static let topics = [
        "order.created", "order.updated", "order.restored", "order.deleted", " order.updated\t",
        "action.woocommerce_order_refunded", "action.woocommerce_payment_complete", "action.", "product.updated",
        "order.Updated", "", "coupon.created",
    ]

    /// The fixtures' catalog plus entries that reach the other branches of the mapper: SKU match, another
    /// store's product, a variation.
    static let rules = WooIntakeRules(store: WooFixtures.store, catalog: WooFixtures.catalog + [
        CatalogEntry(sku: "WOO-TSHIRT", courseID: "course-v1:Shirt+S1+2026"),
        CatalogEntry(store: "other", productID: 87, courseID: "course-v1:Other+O1+2026"),
        CatalogEntry(store: "main", productID: 99, variationID: 5, courseID: "course-v1:Var+V1+2026", mode: "honor"),
    ])

    @Test func corpusIsLoaded() {
        #expect(Self.corpus.count >= 10, "fixtures/woocommerce was not found at \(WooFixtures.directory.path)")
        #expect(Self.corpus.allSatisfy { !$0.body.isEmpty })
    }

    @Test func parseAndRulesOnMutatedFixtures() {
        let corpus = Self.corpus
        let bodies = corpus.map(\.body)
        let trees = corpus.map { try? JSONDecoder().decode(JSONValue.self, from: Data($0.body)) }
        var decided = 0, withJobs = 0
        Fuzz.run("woo.parse+rules.mutated", count: 2000) { c in
            let index = c.rng.below(corpus.count)
            let topic = c.rng.chance(7, in: 8) ? corpus[index].topic : c.rng.pick(Self.topics)
            let body: [UInt8]
            if let tree = trees[index], c.rng.chance(1, in: 2) {
                // Structure-aware: byte flips almost always break the JSON, and the rules are never reached.
                var mutated = tree
                for _ in 0...c.rng.below(3) { FuzzJSON.mutateSomewhere(&mutated, &c.rng) }
                body = FuzzJSON.encode(mutated)
            } else {
                body = FuzzMutator.mutate(corpus[index].body, &c.rng, others: bodies)
            }
            c.input(body)
            if let decision = Self.check(topic: topic, body: body, &c) {
                decided += 1
                if !decision.jobs.isEmpty || !decision.seats.isEmpty { withJobs += 1 }
            }
        }
        // Guards against a vacuous property: many mutants must still reach the rules, and some must make jobs.
        if Fuzz.only == nil {
            #expect(decided > 2000 * Fuzz.scale / 3 && withJobs > 2000 * Fuzz.scale / 20, "\(decided) decided, \(withJobs) with jobs")
        }
    }

    @Test func parseOnRandomBytes() {
        Fuzz.run("woo.parse.random", count: 10000) { c in
            let topic = c.rng.pick(Self.topics)
            let body = FuzzMutator.randomBytes(&c.rng, alphabet: FuzzMutator.jsonAlphabet)
            c.input(body)
            _ = Self.check(topic: topic, body: body, &c)
        }
    }

    /// Recursion is where a parser overflows its stack: a signed body nested deeper than any order must be
    /// refused as malformed, not crash the server.
    @Test(arguments: [1_000, 100_000])
    func deeplyNestedBodiesAreRefused(depth: Int) {
        for (open, close) in [("[", "]"), (#"{"id":"#, "}")] {
            let body = Array((String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)).utf8)
            for topic in ["order.updated", "order.deleted", "action.woocommerce_order_refunded"] {
                var refused = false
                do { _ = try WooPayload.parse(topic: topic, body: body) } catch { refused = true }
                #expect(refused, "\(topic), \(open) nested \(depth) deep")
            }
        }
    }

    @Test func mutatedBodyNeverMatchesTheOriginalSignature() {
        let corpus = Self.corpus.map(\.body)
        let secret = WooFixtures.store.webhookSecret
        let signatures = corpus.map { WooWebhookSignature.sign(body: $0, secret: secret) }
        Fuzz.run("woo.signature.mutated", count: 8000) { c in
            let index = c.rng.below(corpus.count)
            let body = FuzzMutator.mutate(corpus[index], &c.rng, others: corpus)
            c.input(body)
            let valid = WooWebhookSignature.isValid(body: body, signature: signatures[index], secret: secret)
            c.expect(valid == (body == corpus[index]),
                     "isValid is \(valid) for a body \(body == corpus[index] ? "equal to" : "differing from") the signed one")
        }
    }

    @Test func mutatedSignatureHeaderOnlyPassesWhenItStillEncodesTheMAC() {
        let body = Self.corpus[0].body
        let secret = WooFixtures.store.webhookSecret
        let signature = WooWebhookSignature.sign(body: body, secret: secret)
        let mac = Data(base64Encoded: signature)!
        Fuzz.run("woo.signature.header", count: 6000) { c in
            let header = String(decoding: FuzzMutator.mutate(Array(signature.utf8), &c.rng), as: UTF8.self)
            c.input(header)
            let valid = WooWebhookSignature.isValid(body: body, signature: header, secret: secret)
            // Independent oracle: the header is accepted iff, trimmed of blanks, it is base64 of exactly the MAC.
            let expected = Data(base64Encoded: header.trimmingCharacters(in: .whitespaces)) == mac
            c.expect(valid == expected, "isValid is \(valid) for header \(header.debugDescription)")
        }
    }

    @Test func anySecretSignsAndVerifiesItsOwnBodies() {
        let alphabet = Array("ab&;#x0123456789amplgtquot<>\"' é".unicodeScalars)
        Fuzz.run("woo.signature.secret", count: 3000) { c in
            let secret = String(String.UnicodeScalarView((0..<c.rng.length(max: 24)).map { _ in c.rng.pick(alphabet) }))
            let body = FuzzMutator.randomBytes(&c.rng, max: 256)
            c.input(Array(secret.utf8) + [0x0A] + body)
            let signature = WooWebhookSignature.sign(body: body, secret: Secret(secret))
            let valid = WooWebhookSignature.isValid(body: body, signature: signature, secret: Secret(secret))
            c.expect(valid == !secret.isEmpty, "isValid is \(valid) for a body signed with secret \(secret.debugDescription)")
        }
    }

    @Test func pingIsOnlyTheExactShape() {
        let ping = Array("webhook_id=42".utf8)
        Fuzz.run("woo.ping", count: 10000) { c in
            let body = c.rng.chance(1, in: 2)
                ? FuzzMutator.mutate(ping, &c.rng)
                : FuzzMutator.randomBytes(&c.rng, max: 40, alphabet: Array("webhook_id=0123456789 -+".utf8))
            c.input(body)
            let id = WooPing.webhookID(body: body)
            // Independent oracle: the prefix, then 1 to 18 ASCII digits, then nothing.
            let prefix = Array("webhook_id=".utf8)
            let digits = body.starts(with: prefix) ? Array(body.dropFirst(prefix.count)) : []
            let shaped = (1...18).contains(digits.count) && digits.allSatisfy { (0x30...0x39).contains($0) }
            c.expect((id != nil) == shaped, "webhookID is \(id.map(String.init) ?? "nil")")
            if let id, shaped { c.expect(String(id) == String(Int(String(decoding: digits, as: UTF8.self))!), "id \(id)") }
        }
    }

    // MARK: Checks

    /// Checks one delivery; the decision when the body parsed.
    static func check(topic: String, body: [UInt8], _ c: inout FuzzCase) -> WooDecision? {
        let payload: WooPayload
        do {
            payload = try WooPayload.parse(topic: topic, body: body)
        } catch {
            // The server answers 400 with this message: it must name something.
            c.expect(!error.message.isEmpty, "WooParseError with an empty message")
            return nil
        }
        let trimmed = topic.trimmingCharacters(in: .whitespaces)
        switch payload {
        case .order(let order):
            c.expect(["order.created", "order.updated", "order.restored"].contains(trimmed), "an order from topic \(topic)")
            c.expect(order.id > 0, "order id \(order.id)")
            if let email = order.billingEmail {
                c.expect(!email.isEmpty && email == normalizedEmail(email), "billing email \(email.debugDescription)")
            }
        case .deletedOrder:
            c.expect(trimmed == "order.deleted", "a deleted order from topic \(topic)")
        case .action:
            c.expect(trimmed.hasPrefix("action."), "an action from topic \(topic)")
        case .other(let other):
            c.expect(other == trimmed && !trimmed.hasPrefix("action.")
                     && !["order.created", "order.updated", "order.restored", "order.deleted"].contains(trimmed),
                     "other(\(other)) from topic \(topic)")
        }
        let memory = randomMemory(for: payload, &c.rng)
        let deliveryID = deliveryKey(&c.rng)
        let decision = rules.decide(payload, memory: memory, deliveryID: deliveryID)
        check(decision, of: payload, memory: memory, deliveryID: deliveryID, &c)
        return decision
    }

    static func deliveryKey(_ rng: inout SplitMix64) -> String {
        String((0..<32).map { _ in rng.pick(Array("0123456789abcdef")) })
    }

    /// Memory drawn from the order's own ids, so the refunded, partially refunded and inert branches all run.
    static func randomMemory(for payload: WooPayload, _ rng: inout SplitMix64) -> WooOrderMemory {
        guard case .order(let order) = payload, rng.chance(1, in: 2) else { return WooOrderMemory() }
        let lines = order.lineItems.map(\.id)
        func some(_ ids: [Int]) -> Set<Int> { Set(ids.filter { _ in rng.chance(1, in: 2) }) }
        let dates: [String?] = [nil, "2026-11-20T10:00:00", "2026-11-20T11:00:00", order.dateModifiedGMT, "", "9999"]
        return WooOrderMemory(newestModifiedGMT: rng.pick(dates), linesWithEnroll: some(lines),
                              linesWithUnenroll: some(lines), refundsSeen: some(order.refunds.map(\.id)))
    }

    static func check(_ decision: WooDecision, of payload: WooPayload, memory: WooOrderMemory, deliveryID: String,
                      _ c: inout FuzzCase) {
        c.expect(rules.decide(payload, memory: memory, deliveryID: deliveryID) == decision, "decide is not deterministic")
        c.expect((decision.verdict == .accepted) == (!decision.jobs.isEmpty || !decision.seats.isEmpty),
                 "verdict \(decision.verdict) with \(decision.jobs.count) jobs and \(decision.seats.count) seat lines")
        for seat in decision.seats {
            c.expect(seat.seats >= 0 && seat.store == "main", "seat grant \(seat)")
        }
        for job in decision.jobs {
            c.expect(job.source == "woocommerce:main", "job source \(job.source)")
            c.expect(job.dedupeKey.hasPrefix("woo:main:"), "dedupe key \(job.dedupeKey)")
            guard case .object = JSONValue.parse(job.payload) else {
                c.expect(false, "payload of \(job.dedupeKey) is not a JSON object: \(job.payload)")
                continue
            }
            switch (job.kind, payload) {
            case (.enroll, .order(let order)):
                checkEnrollment(job, order, memory, unenroll: false, &c)
            case (.unenroll, .order(let order)):
                checkEnrollment(job, order, memory, unenroll: true, &c)
            case (.woocommerceRefund, .order(let order)):
                guard let refund = try? JSONDecoder().decode(WooRefundJobPayload.self, from: Data(job.payload.utf8)),
                      let refundID = refund.refundID else {
                    c.expect(false, "refund job payload \(job.payload)")
                    continue
                }
                c.expect(job.dedupeKey == "woo:main:\(order.id):refund:\(refundID)", "dedupe key \(job.dedupeKey)")
                c.expect(job.serialKey == "woo:main:\(order.id)", "serial key \(job.serialKey ?? "nil")")
                c.expect(order.refunds.contains { $0.id == refundID } && !memory.refundsSeen.contains(refundID),
                         "refund job for refund \(refundID), not listed or already seen")
                c.expect(refund.store == "main" && refund.orderID == order.id && refund.email == order.billingEmail,
                         "refund payload \(job.payload)")
                c.expect(!refund.lines.isEmpty && refund.lines.allSatisfy { line in
                    order.lineItems.contains { $0.id == line.lineID } && !line.courseID.isEmpty
                }, "refund payload lines \(job.payload)")
            case (.woocommerceRefund, .action(let name, _)):
                guard let refund = try? JSONDecoder().decode(WooRefundJobPayload.self, from: Data(job.payload.utf8)) else {
                    c.expect(false, "sync job payload \(job.payload)")
                    continue
                }
                c.expect(name == "woocommerce_order_refunded", "a job from action \(name)")
                c.expect(refund.orderID > 0 && refund.refundID == nil && refund.lines.isEmpty, "sync payload \(job.payload)")
                c.expect(job.dedupeKey == "woo:main:\(refund.orderID):sync:\(deliveryID)", "dedupe key \(job.dedupeKey)")
                c.expect(job.serialKey == "woo:main:\(refund.orderID)", "serial key \(job.serialKey ?? "nil")")
            default:
                c.expect(false, "a \(job.kind) job from \(payload)")
            }
        }
    }

    static func checkEnrollment(_ job: NewJob, _ order: WooOrder, _ memory: WooOrderMemory, unenroll: Bool,
                                _ c: inout FuzzCase) {
        let parts = job.dedupeKey.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "woo", parts[1] == "main", parts[2] == "\(order.id)",
              let lineID = Int(parts[3]), parts[4] == (unenroll ? "unenroll" : "enroll") else {
            c.expect(false, "dedupe key \(job.dedupeKey)")
            return
        }
        c.expect(order.lineItems.contains { $0.id == lineID }, "\(job.dedupeKey) names a line the order does not have")
        if unenroll {
            c.expect(memory.linesWithEnroll.contains(lineID), "\(job.dedupeKey) unenrolls a line never enrolled here")
        } else {
            c.expect(!memory.linesWithUnenroll.contains(lineID), "\(job.dedupeKey) re-enrolls a refunded line")
        }
        let decoded: (email: String, course: String, reference: String?)?
        if unenroll {
            decoded = (try? JSONDecoder().decode(UnenrollPayload.self, from: Data(job.payload.utf8)))
                .map { ($0.email, $0.courseID, $0.orderReference) }
        } else {
            decoded = (try? JSONDecoder().decode(EnrollPayload.self, from: Data(job.payload.utf8)))
                .map { ($0.email, $0.courseID, $0.orderReference) }
        }
        guard let decoded else {
            c.expect(false, "\(job.kind) payload \(job.payload)")
            return
        }
        c.expect(decoded.email == order.billingEmail && !decoded.email.isEmpty, "payload email \(decoded.email)")
        c.expect(!decoded.course.isEmpty, "payload course id is empty")
        c.expect(decoded.reference == order.number, "order reference \(decoded.reference ?? "nil")")
        c.expect(job.serialKey == SerialKey.enrollment(email: decoded.email, courseID: decoded.course),
                 "serial key \(job.serialKey ?? "nil")")
    }
}

/// Structure-aware mutation of a JSON document: a random walk down to one node (preferring the fields the
/// intake reads), which is then replaced, retyped, emptied or reshaped.
enum FuzzJSON {
    static let keys: Set<String> = [
        "id", "status", "line_items", "refunds", "billing", "email", "number", "date_modified_gmt", "meta_data",
        "key", "value", "variation_id", "product_id", "quantity", "sku", "action", "arg", "total",
    ]

    static let values: [JSONValue] = [
        .null, .bool(true), .number(0), .number(-1), .number(1.5), .number(727), .number(9_007_199_254_740_992),
        .number(9_007_199_254_740_994), .number(-9_007_199_254_740_992), .number(1e300), .number(-0.0),
        .string(""), .string(" 727 "), .string("727"), .string("-5"), .string("abc"), .string("1e3"), .string("0x1F"),
        .string("course-v1:A+B+C"), .string("course-v1:++"), .string("course-v1:A+B+C+D"), .string("processing"),
        .string("completed"), .string("refunded"), .string("trash"), .string(" Zoe@Example.COM\n"),
        .string("2026-11-20T11:00:00"), .string("2099-01-01T00:00:00"), .string("_course_id"), .string("_mode"),
        .string("DEMO-1"), .string("WOO-TSHIRT"), .string("woocommerce_order_refunded"),
        .string(String(repeating: "é", count: 100)), .string("\u{0}\u{FEFF}\u{10FFFF}"),
        .array([]), .object([:]), .object(["0": .number(1), "5": .string("x")]), .object(["1": .null, "01": .null]),
        .array([.object(["key": .string("_course_id"), "value": .string("course-v1:X+Y+Z")])]),
    ]

    static func mutateSomewhere(_ value: inout JSONValue, _ rng: inout SplitMix64) {
        switch value {
        case .object(var fields) where !fields.isEmpty && rng.chance(4, in: 5):
            // Sorted: dictionary order differs between processes, and the walk must not.
            let names = fields.keys.sorted()
            let preferred = names.filter(keys.contains)
            let name = !preferred.isEmpty && rng.chance(3, in: 4) ? rng.pick(preferred) : rng.pick(names)
            mutateSomewhere(&fields[name]!, &rng)
            value = .object(fields)
        case .array(var items) where !items.isEmpty && rng.chance(4, in: 5):
            mutateSomewhere(&items[rng.below(items.count)], &rng)
            value = .array(items)
        default:
            mutateHere(&value, &rng)
        }
    }

    static func mutateHere(_ value: inout JSONValue, _ rng: inout SplitMix64) {
        switch (rng.below(4), value) {
        case (0, .object(var fields)) where !fields.isEmpty:
            fields[rng.pick(fields.keys.sorted())] = nil
            value = .object(fields)
        case (1, .object(var fields)):
            fields[rng.pick(keys.sorted())] = rng.pick(values)
            value = .object(fields)
        case (0, .array(var items)) where !items.isEmpty:
            let index = rng.below(items.count)
            items.insert(items[index], at: rng.below(items.count + 1))
            value = .array(items)
        case (1, .array(let items)) where !items.isEmpty:
            // PHP's shape for a list with holes: an object keyed by the surviving indices.
            value = .object(Dictionary(uniqueKeysWithValues: items.enumerated().map { ("\($0.offset * 2)", $0.element) }))
        case (2, .array(var items)) where !items.isEmpty:
            items.remove(at: rng.below(items.count))
            value = .array(items)
        case (0, .string(let text)), (1, .string(let text)):
            value = .string(String(decoding: FuzzMutator.mutate(Array(text.utf8), &rng), as: UTF8.self))
        case (0, .number(let number)):
            value = rng.pick([.number(number + 1), .number(-number), .number(number * 1e10), .string(String(Int(exactly: number) ?? 0)),
                              .number(number + 0.5)])
        default:
            value = rng.pick(values)
        }
    }

    static func encode(_ value: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data())
    }
}
