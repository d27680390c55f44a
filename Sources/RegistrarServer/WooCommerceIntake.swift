import Foundation
import Logging
import RegistrarCore
import RegistrarStore

/// `POST /webhooks/woocommerce/{store}`: verify, record, decide, enqueue — the delivery and its jobs in one
/// commit, answered only after it. WooCommerce never retries, so a 200 must mean "on disk".
public struct WooCommerceIntake: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        public var body: [String: JSONValue]
    }

    let config: RegistrarConfig
    let ledger: any IntakeLedger
    let metrics: RegistrarMetrics
    let logger: Logger
    let verifiers: [String: WooWebhookSignature.Verifier]
    let gate: RejectionGate

    public init(config: RegistrarConfig, ledger: any IntakeLedger, metrics: RegistrarMetrics, gate: RejectionGate,
                logger: Logger) {
        self.config = config
        self.ledger = ledger
        self.metrics = metrics
        self.gate = gate
        self.logger = logger
        verifiers = config.woocommerce.stores.mapValues { WooWebhookSignature.Verifier(secret: $0.webhookSecret) }
    }

    /// - Parameters:
    ///   - headers: request headers by lower-cased name.
    ///   - client: the address rejections are counted against (see `ClientAddressResolver`).
    public func receive(storeID: String, headers: [String: String], body: [UInt8], client: String) async -> Answer {
        let recorded = Self.headersWorthKeeping(headers)
        func reject(_ status: Int, _ code: String, _ message: String, signed: Bool = false) async -> Answer {
            await rejected(NewDelivery(source: "woocommerce", channel: storeID, headers: recorded, body: body,
                                       verdict: NewDelivery.rejectedVerdict, httpStatus: status, reason: message),
                           code: code, client: signed ? nil : client)
        }

        guard let storeConfig = config.woocommerce.stores[storeID], let verifier = verifiers[storeID] else {
            return await reject(404, "unknown_store", "no WooCommerce store \"\(storeID)\" is configured (woocommerce.stores)")
        }
        let signature = headers["x-wc-webhook-signature"]
        let topic = headers["x-wc-webhook-topic"]
        // The ping carries no signature and no X-WC headers; it only proves the URL answers 200.
        if signature == nil, topic == nil, let webhookID = WooPing.webhookID(body: body) {
            // Unsigned, so anyone can send one: it spends the sender's rejection budget like a rejection.
            guard gate.admit(client, source: "woocommerce") else { return Self.limited(client) }
            return await record(verdict: "ping", storeID: storeID, headers: recorded, body: body,
                                reason: "ping for webhook \(webhookID)", answer: ["status": .string("ping"), "webhook_id": .number(Double(webhookID))])
        }
        guard let signature, !signature.isEmpty else {
            return await reject(401, "missing_signature", "X-WC-Webhook-Signature is missing")
        }
        guard verifier.isValid(body: body, signature: signature) else {
            return await reject(401, "bad_signature",
                                "X-WC-Webhook-Signature does not match the body for store \"\(storeID)\" (check its webhook secret)")
        }
        guard let topic, !topic.isEmpty else {
            return await reject(400, "missing_topic", "X-WC-Webhook-Topic is missing", signed: true)
        }
        let payload: WooPayload
        do {
            payload = try WooPayload.parse(topic: topic, body: body)
        } catch {
            return await reject(400, "malformed_payload", "the \(topic) payload is malformed: \(error.message)", signed: true)
        }
        return await accept(payload, topic: topic, storeConfig: storeConfig, headers: recorded, body: body)
    }

    /// A body over `server.max_body_bytes`: recorded with its size (and hash, when it was read through) and
    /// none of its bytes, answered 413.
    public func tooLarge(storeID: String, headers: [String: String], body: StoredBody, limit: Int, client: String) async
        -> Answer {
        let message = "the body exceeds server.max_body_bytes (\(limit) bytes)"
        return await rejected(NewDelivery(source: "woocommerce", channel: storeID, headers: Self.headersWorthKeeping(headers),
                                          unread: body, verdict: NewDelivery.rejectedVerdict, httpStatus: 413,
                                          reason: message),
                              code: "too_large", client: client)
    }

    /// Records a rejection (what `StoredBody` keeps of it) unless its client is over budget, then answers it.
    /// - Parameter client: nil for a delivery the store signed: the store's own mistakes are never limited.
    private func rejected(_ delivery: NewDelivery, code: String, client: String?) async -> Answer {
        let storeID = delivery.channel ?? ""
        if let client, !gate.admit(client, source: "woocommerce") { return Self.limited(client) }
        metrics.delivery(source: "woocommerce", verdict: NewDelivery.rejectedVerdict)
        do {
            let id = try await ledger.recordDelivery(delivery)
            logger.warning("delivery rejected", metadata: ["delivery_id": "\(id)", "store": "\(storeID)", "client": "\(client ?? "the store")",
                                                           "http_status": "\(delivery.httpStatus)",
                                                           "reason": "\(delivery.reason ?? "")"])
        } catch {
            logger.error("could not record a rejected delivery", metadata: ["store": "\(storeID)", "error": "\(error)"])
        }
        return Answer(status: delivery.httpStatus,
                      body: ["error": .string(code), "message": .string(delivery.reason ?? code)])
    }

    static func limited(_ client: String) -> Answer {
        Answer(status: 429, body: ["error": .string(RejectionGate.limitedCode),
                                   "message": .string(RejectionGate.limitedMessage(client))])
    }

    private func accept(_ payload: WooPayload, topic: String, storeConfig: StoreConfig, headers: [String: String],
                        body: [UInt8]) async -> Answer {
        let rules = WooIntakeRules(store: storeConfig, catalog: config.catalog)
        let storeID = storeConfig.id
        // Only an action names no fact of its own, so only its job's dedupe key needs this delivery's identity.
        let deliveryKey: String
        if case .action = payload { deliveryKey = RandomUUID.make() } else { deliveryKey = "" }
        // Decided here, off the one writer's thread; the store re-decides only if the order is not new.
        let intake = WooIntake.prepared(payload, rules: rules, deliveryKey: deliveryKey)
        let delivery = NewDelivery(source: "woocommerce", channel: storeID, headers: headers, body: body, verdict: "",
                                   httpStatus: 200)
        let outcome: WooIntakeOutcome
        do {
            outcome = try await ledger.recordWooCommerce(intake, delivery: delivery)
        } catch {
            logger.error("could not commit a delivery; answered 503", metadata: ["store": "\(storeID)", "topic": "\(topic)",
                                                                                 "error": "\(error)"])
            return Answer(status: 503, body: ["error": .string("database_unavailable"),
                                              "message": .string("the delivery could not be stored; nothing was recorded")])
        }
        let deliveryID = outcome.deliveryID ?? 0
        metrics.delivery(source: "woocommerce", verdict: outcome.decision.verdict.rawValue)
        for (kind, jobs) in Dictionary(grouping: zip(outcome.decision.jobs, outcome.jobs).filter { $0.1.created }, by: { $0.0.kind }) {
            metrics.jobsCreated(kind: kind, count: jobs.count)
        }

        // One line per delivery at thousands a second: plain strings, no interpolation or array descriptions.
        var metadata: Logger.Metadata = ["delivery_id": .string(String(deliveryID)), "store": .string(storeID),
                                         "topic": .string(topic), "verdict": .string(outcome.decision.verdict.rawValue),
                                         "jobs": .string("[" + outcome.jobs.map { String($0.id) }.joined(separator: ", ") + "]"),
                                         "new_jobs": .string(String(outcome.jobs.filter(\.created).count))]
        if case .order(let order) = payload {
            metadata["order"] = .string(order.number)
            metadata["status"] = .string(order.status)
            if let email = order.billingEmail { metadata["email"] = .string(email) }
        }
        if let reason = outcome.decision.reason { metadata["reason"] = .string(CardNumberMasking.masked(reason)) }
        logger.info("delivery recorded", metadata: metadata)

        var answer: [String: JSONValue] = ["delivery": .number(Double(deliveryID))]
        switch outcome.decision.verdict {
        case .accepted:
            answer["status"] = .string("accepted")
            answer["jobs"] = .array(outcome.jobs.map { .number(Double($0.id)) })
        case .ignored, .stale:
            answer["status"] = .string("ignored")
            answer["verdict"] = .string(outcome.decision.verdict.rawValue)
            answer["reason"] = .string(CardNumberMasking.masked(outcome.decision.reason ?? "nothing to do"))
        }
        if !outcome.decision.notes.isEmpty { answer["notes"] = .array(outcome.decision.notes.map(JSONValue.string)) }
        return Answer(status: 200, body: answer)
    }

    private func record(verdict: String, storeID: String, headers: [String: String], body: [UInt8], reason: String,
                        answer: [String: JSONValue]) async -> Answer {
        metrics.delivery(source: "woocommerce", verdict: verdict)
        do {
            let id = try await ledger.recordDelivery(NewDelivery(source: "woocommerce", channel: storeID, headers: headers,
                                                                body: body, verdict: verdict, httpStatus: 200, reason: reason))
            logger.info("delivery recorded", metadata: ["delivery_id": "\(id)", "store": "\(storeID)", "verdict": "\(verdict)"])
            var body = answer
            body["delivery"] = .number(Double(id))
            return Answer(status: 200, body: body)
        } catch {
            return Answer(status: 503, body: ["error": .string("database_unavailable"),
                                              "message": .string("the delivery could not be stored")])
        }
    }

    /// The headers an operator needs to audit or replay a delivery; nothing secret is among them.
    static func headersWorthKeeping(_ headers: [String: String]) -> [String: String] {
        // The router passes only these already; a filter would build the same dictionary again.
        if headers.keys.allSatisfy(isWorthKeeping) { return headers }
        return headers.filter { name, _ in isWorthKeeping(name) }
    }

    /// Every header intake reads (the signature and topic) is among these.
    static func isWorthKeeping(_ name: String) -> Bool {
        name.hasPrefix("x-wc-webhook-") || name == "user-agent" || name == "content-type"
    }
}
