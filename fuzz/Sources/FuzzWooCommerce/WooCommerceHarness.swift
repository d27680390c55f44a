import Foundation
import RegistrarCore

// libFuzzer harness: one WooCommerce webhook body per input, read under every topic family the intake reads
// (order, deleted order, action, other), then decided by the intake rules against three order memories.
// A trap anywhere is a finding: a crash in RegistrarCore, or a broken invariant checked below with `require`.

private let store = StoreConfig(id: "main", webhookSecret: Secret("wh-secret"))

/// The catalog of fixtures/woocommerce/README.md, plus entries that reach the mapper's other branches.
private let rules = WooIntakeRules(store: store, catalog: [
    CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+2026", mode: "audit"),
    CatalogEntry(sku: "WOO-TSHIRT", courseID: "course-v1:Shirt+S1+2026"),
    CatalogEntry(store: "other", productID: 87, courseID: "course-v1:Other+O1+2026"),
    CatalogEntry(store: "main", productID: 99, variationID: 5, courseID: "course-v1:Var+V1+2026", mode: "honor"),
])

private let topics = ["order.updated", "order.deleted", "action.woocommerce_order_refunded", "product.updated"]

/// fixtures/woocommerce/order-deleted.json, which the seed corpus holds: mutants of it must not keep its MAC.
private let signedBody = Array(#"{"id":727}"#.utf8)
private let signedMAC = WooWebhookSignature.sign(body: signedBody, secret: store.webhookSecret)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let body = Array(UnsafeRawBufferPointer(start: start, count: count))
    require(WooWebhookSignature.isValid(body: body, signature: signedMAC, secret: store.webhookSecret) == (body == signedBody),
            "a body other than the signed one matched its MAC")
    _ = WooPing.webhookID(body: body)
    for topic in topics {
        let payload: WooPayload
        do {
            payload = try WooPayload.parse(topic: topic, body: body)
        } catch {
            require(!error.message.isEmpty, "WooParseError without a message")
            continue
        }
        for memory in memories(for: payload) {
            let decision = rules.decide(payload, memory: memory, deliveryID: "d0e1f2")
            check(decision, payload, memory)
        }
    }
    return 0
}

/// Nothing known; everything known; every other line and refund known, with an older modification date.
private func memories(for payload: WooPayload) -> [WooOrderMemory] {
    guard case .order(let order) = payload else { return [WooOrderMemory()] }
    let lines = order.lineItems.map(\.id), refunds = order.refunds.map(\.id)
    let everyOther = { (ids: [Int]) in Set(ids.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)) }
    return [
        WooOrderMemory(),
        WooOrderMemory(newestModifiedGMT: order.dateModifiedGMT, linesWithEnroll: Set(lines),
                       linesWithUnenroll: Set(lines), refundsSeen: Set(refunds)),
        WooOrderMemory(newestModifiedGMT: "2000-01-01T00:00:00", linesWithEnroll: everyOther(lines),
                       linesWithUnenroll: everyOther(lines.reversed()), refundsSeen: everyOther(refunds)),
    ]
}

private func check(_ decision: WooDecision, _ payload: WooPayload, _ memory: WooOrderMemory) {
    require((decision.verdict == .accepted) == !decision.jobs.isEmpty, "verdict \(decision.verdict), \(decision.jobs.count) jobs")
    for job in decision.jobs {
        require(job.source == "woocommerce:main", "source \(job.source)")
        guard case .object(let fields)? = JSONValue.parse(job.payload) else {
            fatalError("payload of \(job.dedupeKey) is not a JSON object: \(job.payload)")
        }
        switch (job.kind, payload) {
        case (.enroll, .order(let order)), (.unenroll, .order(let order)):
            let unenroll = job.kind == .unenroll
            let line = order.lineItems.first { job.dedupeKey == "woo:main:\(order.id):\($0.id):\(unenroll ? "unenroll" : "enroll")" }
            require(line != nil, "dedupe key \(job.dedupeKey)")
            require(unenroll ? memory.linesWithEnroll.contains(line!.id) : !memory.linesWithUnenroll.contains(line!.id),
                    "\(job.dedupeKey) against memory \(memory)")
            guard case .string(let email)? = fields["email"], case .string(let course)? = fields["course_id"] else {
                fatalError("\(job.kind) payload \(job.payload)")
            }
            require(email == order.billingEmail && !course.isEmpty, "\(job.kind) payload \(job.payload)")
            require(job.serialKey == SerialKey.enrollment(email: email, courseID: course), "serial key \(job.serialKey ?? "nil")")
        case (.woocommerceRefund, .order(let order)):
            let refund = order.refunds.first { job.dedupeKey == "woo:main:\(order.id):refund:\($0.id)" }
            require(refund != nil && !memory.refundsSeen.contains(refund!.id), "dedupe key \(job.dedupeKey)")
            require(fields["order_id"] == .number(Double(order.id)), "refund payload \(job.payload)")
        case (.woocommerceRefund, .action(let name, _)):
            require(name == "woocommerce_order_refunded", "a job from action \(name)")
            guard case .number(let orderID)? = fields["order_id"], orderID >= 1 else { fatalError("sync payload \(job.payload)") }
            require(job.dedupeKey == "woo:main:\(Int(orderID)):sync:d0e1f2", "dedupe key \(job.dedupeKey)")
        default:
            fatalError("a \(job.kind) job from \(payload)")
        }
    }
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}
