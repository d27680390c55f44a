import CurlHTTP
import Foundation
import Logging
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import Sandbox
import Synchronization
import TestSupport
import Testing

// Shared by CrashTests and FaultTests: a seeded stream of real-shaped WooCommerce orders and refunds, the
// ledger it must produce, and the checks of the sandbox ledger and the job table.

/// A distinct secret: if a delivery ever reached another test's `serve` on a recycled port, it would be refused.
let streamSecret = "wc-stream-secret"

/// One line of a generated order. Course lines carry `_course_id`/`_mode` line meta (the store set them at
/// checkout); the merchandise line maps to nothing.
struct StreamLine: Sendable {
    let id: Int
    let productID: Int
    let name: String
    let courseID: String?
    let mode: String?
    let price: Int
    let quantity: Int
}

/// One webhook delivery of an order, and what the store holds when it is sent.
struct StreamStep: Sendable {
    let label: String
    let topic: String
    let body: [UInt8]
    /// The order as `GET /wp-json/wc/v3/orders/<id>` serves it after this change.
    let storeOrder: SandboxJSON
    /// The refund object this change created, registered on the store side before the delivery.
    let refund: SandboxJSON?
}

struct StreamOrder: Sendable {
    let id: Int
    let learner: SandboxSeed.User
    let lines: [StreamLine]
    /// In the order WooCommerce would send them; each is sent only once the previous one was answered 200.
    let steps: [StreamStep]
    /// Course lines whose refund must unenroll the learner.
    let unenrolledLines: Set<Int>
    /// "paid → completed → refunded in full"
    let story: String

    var courseLines: [StreamLine] { lines.filter { $0.courseID != nil } }
}

/// What the sandbox ledger must hold for one learner and course run.
struct ExpectedEnrollment: Sendable {
    let username: String
    let courseID: String
    let mode: String
    let orderNumber: String
    let unenrolled: Bool
    /// What happened to the order, for failure messages: "paid → line 20051 refunded".
    let story: String
    var actions: [LedgerEntry.Action] { unenrolled ? [.enroll, .unenroll] : [.enroll] }
}

/// A seeded set of learners, course runs and orders. Each learner buys a course run at most once, so every
/// learner and course pair in the ledger belongs to exactly one order line.
struct OrderStream: Sendable {
    let seed: UInt64
    let learners: [SandboxSeed.User]
    let courses: [SandboxSeed.Course]
    let orders: [StreamOrder]

    /// - Parameters:
    ///   - completedUpdates: whether a paid order may get a second `completed` delivery (same facts, no new job).
    init(seed: UInt64, orders orderCount: Int, learners learnerCount: Int = 20, courses courseCount: Int = 6,
         firstOrderID: Int = 2001, completedUpdates: Bool = true) {
        self.seed = seed
        var random = SeededRandom(seed: seed)
        let firstNames = ["Amara", "Bruno", "Chloé", "Dmitri", "Esra", "Farid", "Greta", "Hiro", "Inès", "Jonas",
                          "Kofi", "Lucía", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq"]
        learners = (0..<learnerCount).map { index in
            let first = firstNames[index % firstNames.count]
            let ascii = first.folding(options: .diacriticInsensitive, locale: nil).lowercased()
            return SandboxSeed.User(username: "\(ascii)\(index + 1)", email: "\(ascii).\(index + 1)@example.com",
                                    name: "\(first) Learner")
        }
        courses = (0..<courseCount).map { index in
            SandboxSeed.Course(id: "course-v1:RegistrarX+CT\(101 + index)+2026_T1", title: "Crash Course \(101 + index)",
                               modes: ["audit", "verified"], enrollmentOpen: true)
        }

        var used = Set<String>()
        var built: [StreamOrder] = []
        let base = Date(timeIntervalSince1970: 1_795_420_800)  // 2026-11-23T08:00:00Z
        for index in 0..<orderCount {
            let orderID = firstOrderID + index
            var learnerIndex = Int.random(in: 0..<learnerCount, using: &random)
            var free: [Int] = []
            for _ in 0..<learnerCount {
                free = (0..<courseCount).filter { !used.contains("\(learnerIndex)|\($0)") }
                if !free.isEmpty { break }
                learnerIndex = (learnerIndex + 1) % learnerCount
            }
            precondition(!free.isEmpty, "not enough learner and course pairs for \(orderCount) orders")
            free.shuffle(using: &random)
            let courseLines = min(free.count, Bool.random(using: &random) ? 2 : 1)
            var lines: [StreamLine] = []
            for (offset, course) in free.prefix(courseLines).enumerated() {
                used.insert("\(learnerIndex)|\(course)")
                let verified = Bool.random(using: &random)
                let price = verified ? [49, 99].randomElement(using: &random)! : 29
                lines.append(StreamLine(id: orderID * 10 + offset, productID: 300 + course,
                                        name: "Crash Course \(101 + course) — \(verified ? "Verified" : "Audit")",
                                        courseID: courses[course].id, mode: verified ? "verified" : "audit",
                                        price: price, quantity: 1))
            }
            if Int.random(in: 0..<4, using: &random) == 0 {
                lines.append(StreamLine(id: orderID * 10 + 5, productID: 99, name: "T-shirt", courseID: nil, mode: nil,
                                        price: 12, quantity: 2))
            }
            built.append(Self.order(orderID, learner: learners[learnerIndex], lines: lines,
                                    created: base.addingTimeInterval(Double(index) * 420),
                                    completedUpdates: completedUpdates, random: &random))
        }
        orders = built
    }

    var sandboxSeed: SandboxSeed { SandboxSeed(users: learners, courses: courses) }

    /// Learner and course (`username|course_id`) → what the ledger must show.
    var expected: [String: ExpectedEnrollment] {
        var result: [String: ExpectedEnrollment] = [:]
        for order in orders {
            for line in order.courseLines {
                let key = "\(order.learner.username)|\(line.courseID!)"
                result[key] = ExpectedEnrollment(username: order.learner.username, courseID: line.courseID!,
                                                 mode: line.mode!, orderNumber: String(order.id),
                                                 unenrolled: order.unenrolledLines.contains(line.id), story: order.story)
            }
        }
        return result
    }

    var stepCount: Int { orders.reduce(0) { $0 + $1.steps.count } }

    // MARK: Generation

    private enum Fate { case kept, refundByAmount, partialRefund, fullRefund, partialThenFull }

    private static func order(_ id: Int, learner: SandboxSeed.User, lines: [StreamLine], created: Date,
                              completedUpdates: Bool, random: inout SeededRandom) -> StreamOrder {
        let courseLines = lines.filter { $0.courseID != nil }
        let draw = Int.random(in: 0..<100, using: &random)
        let fate: Fate
        if courseLines.count >= 2 {
            fate = draw < 35 ? .kept : draw < 45 ? .refundByAmount : draw < 65 ? .partialRefund : draw < 85 ? .fullRefund : .partialThenFull
        } else {
            fate = draw < 45 ? .kept : draw < 60 ? .refundByAmount : .fullRefund
        }
        var steps: [StreamStep] = []
        var modified = created.addingTimeInterval(45)
        var status = "processing"
        var refunds: [SandboxJSON] = []
        var unenrolled = Set<Int>()
        var refundedLines = Set<Int>()
        var story = ["paid"]
        func step(_ label: String, refund: SandboxJSON? = nil) {
            let json = orderJSON(id, learner: learner, lines: lines, status: status, created: created, modified: modified,
                                 refunds: refunds)
            steps.append(StreamStep(label: "order \(id) \(label)", topic: "order.updated",
                                    body: Array((try? json.encoded()) ?? Data()), storeOrder: json, refund: refund))
            modified = modified.addingTimeInterval(Double(Int.random(in: 30...900, using: &random)))
        }
        step("paid (processing)")
        if completedUpdates, Bool.random(using: &random) {
            status = "completed"
            story.append("completed")
            step("completed")
        }
        let refundID = { (n: Int) in 90_000 + id * 10 + n }
        switch fate {
        case .kept:
            break
        case .refundByAmount:
            // A goodwill refund with no line: the order stays paid and nobody is unenrolled.
            let refund = refundJSON(refundID(1), orderID: id, lines: [], amount: 5, reason: "Late access to the course")
            refunds.insert(refundSummary(refundID(1), amount: 5, reason: "Late access to the course"), at: 0)
            story.append("refund by amount")
            step("refund \(refundID(1)) by amount", refund: refund)
        case .partialRefund, .partialThenFull:
            let line = courseLines.randomElement(using: &random)!
            let refund = refundJSON(refundID(1), orderID: id, lines: [line], amount: line.price, reason: "")
            refunds.insert(refundSummary(refundID(1), amount: line.price, reason: ""), at: 0)
            unenrolled.insert(line.id)
            refundedLines.insert(line.id)
            story.append("line \(line.id) refunded")
            step("partial refund \(refundID(1)) of line \(line.id)", refund: refund)
            if fate == .partialThenFull { fallthrough }
        case .fullRefund:
            // A full refund: one refund object for what was left, and the status set to refunded.
            let rest = lines.filter { !refundedLines.contains($0.id) }
            let amount = rest.reduce(0) { $0 + $1.price * $1.quantity }
            let refund = refundJSON(refundID(2), orderID: id, lines: rest, amount: amount, reason: "Order cancelled")
            refunds.insert(refundSummary(refundID(2), amount: amount, reason: "Order cancelled"), at: 0)
            status = "refunded"
            unenrolled.formUnion(courseLines.map(\.id))
            story.append("refunded in full")
            step("refunded (refund \(refundID(2)))", refund: refund)
        }
        return StreamOrder(id: id, learner: learner, lines: lines, steps: steps, unenrolledLines: unenrolled,
                           story: story.joined(separator: " → "))
    }

    private static func refundSummary(_ id: Int, amount: Int, reason: String) -> SandboxJSON {
        let fields: [String: SandboxJSON] = ["id": .int(id), "reason": .string(reason),
                                             "total": .string(String(format: "-%d.00", amount))]
        return .object(fields)
    }

    static func gmt(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date)
    }

    private static func local(_ date: Date) -> String { gmt(date.addingTimeInterval(3600)) }

    /// REST v3 order JSON, shaped like `fixtures/woocommerce/order-727-*.json` (a store in UTC+1).
    static func orderJSON(_ id: Int, learner: SandboxSeed.User, lines: [StreamLine], status: String, created: Date,
                          modified: Date, refunds: [SandboxJSON]) -> SandboxJSON {
        let names = (learner.name ?? learner.username).split(separator: " ").map(String.init)
        var billing: [String: SandboxJSON] = ["company": "", "address_1": "12 rue de l’Église", "address_2": "",
                                              "city": "Lyon", "state": "", "postcode": "69002", "country": "FR"]
        billing["first_name"] = .string(names.first ?? "")
        billing["last_name"] = .string(names.dropFirst().joined(separator: " "))
        billing["email"] = .string(learner.email)
        billing["phone"] = "+33 6 12 34 56 78"
        var shipping = billing
        shipping["email"] = nil
        shipping["phone"] = ""

        let total = lines.reduce(0) { $0 + $1.price * $1.quantity }
        let paid = created.addingTimeInterval(40)
        let completed = status == "completed" || status == "refunded"
        var order: [String: SandboxJSON] = [
            "parent_id": 0, "created_via": "checkout", "version": "10.3.4", "currency": "EUR",
            "prices_include_tax": false, "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "0.00",
            "shipping_tax": "0.00", "cart_tax": "0.00", "total_tax": "0.00", "payment_method": "stripe",
            "payment_method_title": "Credit Card (Stripe)", "customer_ip_address": "203.0.113.24",
            "customer_note": "", "cart_hash": "3f1c0d9a6b2e4f7a8c5d1e0b9a7f6c4d", "is_editable": false,
            "needs_payment": false, "needs_processing": true, "currency_symbol": "€",
        ]
        order["id"] = .int(id)
        order["number"] = .string(String(id))
        order["order_key"] = .string("wc_order_\(id)xK2p")
        order["status"] = .string(status)
        order["total"] = .string(String(format: "%d.00", total))
        order["customer_id"] = .int(100 + id % 97)
        order["billing"] = .object(billing)
        order["shipping"] = .object(shipping)
        order["transaction_id"] = .string("ch_3Qk\(id)Zvr2eKYlo")
        order["customer_user_agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
        order["date_created"] = .string(local(created))
        order["date_created_gmt"] = .string(gmt(created))
        order["date_modified"] = .string(local(modified))
        order["date_modified_gmt"] = .string(gmt(modified))
        order["date_paid"] = .string(local(paid))
        order["date_paid_gmt"] = .string(gmt(paid))
        order["date_completed"] = completed ? .string(local(modified)) : .null
        order["date_completed_gmt"] = completed ? .string(gmt(modified)) : .null
        let stripe: [String: SandboxJSON] = ["id": .int(id * 10 + 7), "key": "_stripe_customer_id",
                                             "value": .string("cus_R\(id)nX4e")]
        order["meta_data"] = .array([.object(stripe)])
        order["line_items"] = .array(lines.map(lineJSON))
        for empty in ["tax_lines", "shipping_lines", "fee_lines", "coupon_lines"] { order[empty] = .array([]) }
        order["refunds"] = .array(refunds)
        order["payment_url"] = .string("https://shop.example.com/checkout/order-pay/\(id)/?pay_for_order=true&key=wc_order_\(id)xK2p")
        let selfLink: SandboxJSON = .object(["href": .string("https://shop.example.com/wp-json/wc/v3/orders/\(id)")])
        let collection: SandboxJSON = .object(["href": "https://shop.example.com/wp-json/wc/v3/orders"])
        order["_links"] = .object(["self": .array([selfLink]), "collection": .array([collection])])
        return .object(order)
    }

    private static func lineJSON(_ line: StreamLine) -> SandboxJSON {
        var meta: [SandboxJSON] = []
        if let courseID = line.courseID, let mode = line.mode {
            for (offset, (key, value)) in [("_course_id", courseID), ("_mode", mode)].enumerated() {
                let entry: [String: SandboxJSON] = ["id": .int(line.id * 10 + offset), "key": .string(key),
                                                    "value": .string(value), "display_key": .string(key),
                                                    "display_value": .string(value)]
                meta.append(.object(entry))
            }
        }
        let total = String(format: "%d.00", line.price * line.quantity)
        var item: [String: SandboxJSON] = ["variation_id": 0, "tax_class": "", "subtotal_tax": "0.00", "total_tax": "0.00",
                                           "taxes": .array([]), "parent_name": .null]
        item["id"] = .int(line.id)
        item["name"] = .string(line.name)
        item["product_id"] = .int(line.productID)
        item["quantity"] = .int(line.quantity)
        item["subtotal"] = .string(total)
        item["total"] = .string(total)
        item["meta_data"] = .array(meta)
        item["sku"] = .string(line.courseID == nil ? "WOO-TSHIRT" : "")
        item["price"] = .int(line.price)
        item["image"] = .object(["id": .int(line.productID + 1000),
                                 "src": "https://shop.example.com/wp-content/uploads/2026/10/product.png"])
        return .object(item)
    }

    /// A refund as `GET …/orders/<id>/refunds/<refund_id>` returns it: negative quantities and totals,
    /// `_refunded_item_id` naming the order line.
    static func refundJSON(_ refundID: Int, orderID: Int, lines: [StreamLine], amount: Int, reason: String) -> SandboxJSON {
        var items: [SandboxJSON] = []
        for (offset, line) in lines.enumerated() {
            let total = String(format: "-%d.00", line.price * line.quantity)
            let meta: [String: SandboxJSON] = ["id": .int(refundID * 10 + offset), "key": "_refunded_item_id",
                                               "value": .string(String(line.id)), "display_key": "_refunded_item_id",
                                               "display_value": .string(String(line.id))]
            var item: [String: SandboxJSON] = ["variation_id": 0, "tax_class": "", "subtotal_tax": "0.00",
                                               "total_tax": "0.00", "taxes": .array([])]
            item["id"] = .int(refundID * 10 + offset)
            item["name"] = .string(line.name)
            item["product_id"] = .int(line.productID)
            item["quantity"] = .int(-line.quantity)
            item["subtotal"] = .string(total)
            item["total"] = .string(total)
            item["meta_data"] = .array([.object(meta)])
            item["sku"] = .string(line.courseID == nil ? "WOO-TSHIRT" : "")
            item["price"] = .int(line.price)
            items.append(.object(item))
        }
        var refund: [String: SandboxJSON] = ["refunded_by": 1, "refunded_payment": true, "meta_data": .array([]),
                                             "shipping_lines": .array([]), "tax_lines": .array([]), "fee_lines": .array([])]
        refund["id"] = .int(refundID)
        refund["amount"] = .string(String(format: "%d.00", amount))
        refund["reason"] = .string(reason)
        refund["line_items"] = .array(items)
        return .object(refund)
    }
}

// MARK: Delivering

/// What `serve` answered 200 to: the delivery id and job ids it promised are on disk.
struct AcceptedDelivery: Sendable {
    let label: String
    let body: [UInt8]
    let deliveryID: Int64
    let jobIDs: [Int64]
}

/// Every delivery attempt's fate, shared by the tasks sending them.
final class DeliveryJournal: Sendable {
    struct State {
        var accepted: [AcceptedDelivery] = []
        /// Attempts without a 200: connection refused or reset, empty reply, 5xx.
        var notAccepted: [String] = []
        var abandoned: [String] = []
    }

    private let state = Mutex(State())

    func accepted(_ delivery: AcceptedDelivery) { state.withLock { $0.accepted.append(delivery) } }
    func notAccepted(_ what: String) { state.withLock { $0.notAccepted.append(what) } }
    func abandoned(_ what: String) { state.withLock { $0.abandoned.append(what) } }
    var snapshot: State { state.withLock { $0 } }
}

/// Where `serve` listens right now; nil while it is down. With several instances, a load balancer's pick: any
/// one of those up.
final class LiveEndpoint: Sendable {
    private let urls = Mutex<[Int: String]>([:])
    func set(_ value: String?, instance: Int = 0) { urls.withLock { $0[instance] = value } }
    var current: String? { urls.withLock { $0.values.randomElement() } }
}

/// Posts deliveries the way WooCommerce's Hookshot does.
final class WebhookSender: Sendable {
    let http = CurlHTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(2), totalTimeout: .seconds(15)))

    func post(_ step: StreamStep, to baseURL: String, store: String = "main") async throws -> HTTPResponse {
        let headers: HTTPHeaders = [
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/10.3.4 Hookshot (WordPress/6.8.3)",
            "X-WC-Webhook-Source": "https://shop.example.com/",
            "X-WC-Webhook-Topic": step.topic,
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": "updated",
            "X-WC-Webhook-ID": "21",
            "X-WC-Webhook-Delivery-ID": String(format: "%08x", UInt32(truncatingIfNeeded: step.body.count &* 2_654_435_761)),
            "X-WC-Webhook-Signature": wooSignature(step.body, secret: streamSecret),
        ]
        return try await http.execute(HTTPRequest(method: "POST", url: "\(baseURL)/webhooks/woocommerce/\(store)",
                                                  headers: headers, body: step.body))
    }

    /// Registers the step's store-side state, then sends it until it is answered 200. WooCommerce itself would
    /// not retry a failed delivery; a lost one would have to be caught up later, which is what the re-send is.
    /// - Parameter answered: called the moment a 200 arrives, before anything else.
    func deliverUntilAccepted(_ step: StreamStep, sandbox: RunningSandbox, endpoint: LiveEndpoint, journal: DeliveryJournal,
                              deadline: ContinuousClock.Instant, answered: @Sendable () -> Void = {}) async -> Bool {
        do {
            if let refund = step.refund, let orderID = step.storeOrder["id"]?.intValue {
                try await sandbox.addWooRefund(orderID: orderID, refund: refund)
            }
            try await sandbox.addWooOrder(step.storeOrder)
        } catch {
            journal.abandoned("\(step.label): the sandbox store refused it: \(error)")
            return false
        }
        while ContinuousClock.now < deadline, !Task.isCancelled {
            guard let baseURL = endpoint.current else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            do {
                let response = try await post(step, to: baseURL)
                if response.status == 200 {
                    answered()
                    let json = JSONValue.parse(response.bodyText)
                    guard let delivery = json?["delivery"]?.stringValue.flatMap({ Int64($0) }) else {
                        journal.abandoned("\(step.label): 200 without a delivery id: \(response.bodyText)")
                        return false
                    }
                    let jobs = (json?["jobs"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { Int64($0) } }
                    journal.accepted(AcceptedDelivery(label: step.label, body: step.body, deliveryID: delivery, jobIDs: jobs))
                    return true
                }
                journal.notAccepted("\(step.label): HTTP \(response.status)")
            } catch {
                journal.notAccepted("\(step.label): \(error)")
            }
            try? await Task.sleep(for: .milliseconds(40))
        }
        journal.abandoned("\(step.label): never answered 200")
        return false
    }

    func shutdown() { http.shutdown() }
}

// MARK: Processes

/// `ServeProcess.init` polls with `Thread.sleep`; run it on its own thread so the two cooperative threads of a
/// 2-core machine keep serving the sandbox and the senders meanwhile.
func launchServe(configPath: String, workingDirectory: String) async throws -> ServeProcess {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try ServeProcess(configPath: configPath, workingDirectory: workingDirectory) })
        }
    }
}

/// Kills a process from whichever task sees the next 200, the instant it sees it: well within the flush of a
/// commit, so an intake that answered before its commit was on disk would lose that delivery.
final class KillSwitch: Sendable {
    private let armed = Mutex<pid_t?>(nil)

    func arm(_ pid: pid_t) { armed.withLock { $0 = pid } }
    func disarm() { armed.withLock { $0 = nil } }

    func fire() {
        if let pid = armed.withLock({ pid -> pid_t? in defer { pid = nil }; return pid }) { kill(pid, SIGKILL) }
    }
}

/// SIGKILL: no shutdown hook runs, leases stay taken, whatever was not committed is gone.
func killHard(_ serve: ServeProcess) async {
    // Once reaped, the pid could belong to someone else.
    if serve.process.isRunning { serve.signal(SIGKILL) }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread {
            serve.process.waitUntilExit()
            continuation.resume()
        }
    }
    try? await Task.sleep(for: .milliseconds(20))
    // The pipe is at EOF now; a handler left on it would be called for nothing, over and over.
    (serve.process.standardOutput as? Pipe)?.fileHandleForReading.readabilityHandler = nil
}

func stopGracefully(_ serve: ServeProcess) async -> Int32 {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: serve.stop()) }
    }
}

func startStreamSandbox(_ stream: OrderStream, configure: (inout SandboxConfiguration) -> Void = { _ in }) async throws
    -> RunningSandbox {
    var configuration = SandboxConfiguration()
    configuration.port = 0
    configuration.logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
    configuration.seed = stream.sandboxSeed
    configure(&configuration)
    return try await Sandbox.start(configuration)
}

/// `registrar.yaml` for one store with REST keys (so partial refunds can be looked up) against the sandbox.
/// - Parameter openedx: extra `openedx:` settings, one `key: value` each.
func streamConfig(databasePath: String, sandbox: RunningSandbox, openedx: [String] = [], jobs: String) -> String {
    let extra = openedx.map { "\n  " + $0 }.joined()
    return """
        database: \(databasePath)
        server: {host: 127.0.0.1, port: 0}
        openedx:
          lms_url: \(sandbox.baseURL)
          studio_url: \(sandbox.baseURL)
          client_secret: sandbox-secret\(extra)
        woocommerce:
          stores:
            main: {webhook_secret: \(streamSecret), url: \(sandbox.baseURL), consumer_key: ck_sandbox, consumer_secret: cs_sandbox, catch_up: {interval_seconds: 0}}
        jobs: {\(jobs)}
        logging: {level: info}
        """
}

// MARK: Checks

/// The database `serve` wrote, opened as the CLI would: through the store's protocols.
func openStore(_ path: String) throws -> any RegistrarStorage {
    try SQLiteStore(path: path, options: StoreOptions(jobs: JobsConfig()))
}

/// Waits until no job is queued or running. Returns false on timeout.
func waitUntilSettled(_ store: any JobOperations, timeout: Duration) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let stats = try await store.stats()
        if stats.total(state: .queued) == 0 && stats.total(state: .running) == 0 { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}

func allJobs(_ store: any JobOperations) async throws -> [Job] {
    try await store.jobs(JobFilter(limit: 100_000))
}

/// The ledger against the stream: per learner and course exactly `enroll` (in the paid mode, naming the order),
/// followed by `unenroll` when the line was refunded; no entry for anything else.
func ledgerProblems(_ ledger: [LedgerEntry], expected: [String: ExpectedEnrollment]) -> [String] {
    var problems: [String] = []
    var byPair: [String: [LedgerEntry]] = [:]
    for entry in ledger {
        byPair["\(entry.user ?? entry.email ?? "-")|\(entry.courseID)", default: []].append(entry)
    }
    for (key, want) in expected.sorted(by: { $0.key < $1.key }) {
        let got = byPair[key] ?? []
        if got.map(\.action) != want.actions {
            problems.append("\(key) (order \(want.orderNumber): \(want.story)): ledger \(got.map { "\($0.action.rawValue)#\($0.seq)" }), "
                            + "expected \(want.actions.map(\.rawValue))")
            continue
        }
        if let enroll = got.first, enroll.mode != want.mode || enroll.order != want.orderNumber {
            problems.append("\(key): enrolled as \(enroll.mode ?? "nil") for order \(enroll.order ?? "nil"), "
                            + "expected \(want.mode) for order \(want.orderNumber)")
        }
    }
    for (key, entries) in byPair.sorted(by: { $0.key < $1.key }) where expected[key] == nil {
        problems.append("\(key): nothing was bought, yet the ledger has \(entries.map { "\($0.action.rawValue)#\($0.seq)" })")
    }
    return problems
}

/// No job failed or is left behind, and none used more attempts than allowed.
func jobTableProblems(_ jobs: [Job]) -> [String] {
    var problems: [String] = []
    for job in jobs.sorted(by: { $0.id < $1.id }) {
        if job.state != .succeeded {
            problems.append("job \(job.id) \(job.kind.rawValue) \(job.dedupeKey) is \(job.state) after \(job.attempts) attempts: "
                            + (job.lastError ?? "no error"))
        }
        if job.attempts > job.maxAttempts {
            problems.append("job \(job.id) \(job.kind.rawValue) made \(job.attempts) attempts, max \(job.maxAttempts)")
        }
    }
    return problems
}

/// Every 200 is on disk: the delivery row holds the very bytes sent, with the jobs the answer named, and
/// those jobs ran to success.
func acceptedDeliveryProblems(_ accepted: [AcceptedDelivery], store: any DeliveryLog, jobs: [Job]) async throws -> [String] {
    let byID = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0) })
    var problems: [String] = []
    for delivery in accepted {
        guard let stored = try await store.delivery(id: delivery.deliveryID) else {
            problems.append("\(delivery.label): answered 200 as delivery \(delivery.deliveryID), which is not in the database")
            continue
        }
        if stored.body != delivery.body || stored.httpStatus != 200 {
            problems.append("\(delivery.label): delivery \(delivery.deliveryID) in the database is another one "
                            + "(HTTP \(stored.httpStatus), \(stored.body.count) bytes)")
        }
        if stored.jobIDs != delivery.jobIDs {
            problems.append("\(delivery.label): answered jobs \(delivery.jobIDs), delivery \(delivery.deliveryID) records \(stored.jobIDs)")
        }
        for id in delivery.jobIDs where byID[id]?.state != .succeeded {
            problems.append("\(delivery.label): job \(id) answered 200 is \(byID[id].map { "\($0.state)" } ?? "missing")")
        }
    }
    return problems
}

/// At most `limit` lines of a list, for failure messages.
func bulleted(_ lines: [String], limit: Int = 40) -> String {
    let shown = lines.prefix(limit).map { "  - " + $0 }
    return (shown + (lines.count > limit ? ["  … and \(lines.count - limit) more"] : [])).joined(separator: "\n")
}
