import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct OrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Orders sold through the CyberSource hosted checkout, and WooCommerce orders that need a person.",
        subcommands: [List.self, Show.self, Review.self, Refund.self, Dismiss.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List orders, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only orders that need a person: duplicate payments, reviews, amount mismatches, and WooCommerce orders refunded beyond their unredeemed codes.")
        var attention = false
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let orders = try await store.orders(attentionOnly: attention, limit: limit)
            let flagged = attention ? try await store.storeOrdersNeedingAttention(limit: limit) : []
            if json {
                var all: [JSONValue] = []
                for order in orders {
                    all.append(OrdersAPIShape.json(order, payments: try await store.payments(ofOrder: order.reference),
                                                   jobs: try await store.jobs(ofOrder: order.reference)))
                }
                all += flagged.map(OrdersAPIShape.json)
                return try JSONOutput.print(all)
            }
            if orders.isEmpty && flagged.isEmpty { return print(attention ? "no order needs attention" : "no orders") }
            if !orders.isEmpty {
                var table = TextTable(["REFERENCE", "CREATED", "EMAIL", "TOTAL", "STATUS", "ATTENTION"])
                for order in orders {
                    table.add([order.reference, Timestamp.format(order.createdAt), order.email, "\(order.total) \(order.currency)",
                               order.status.rawValue, order.attention?.rawValue ?? ""])
                }
                print(table.render())
            }
            if !flagged.isEmpty {
                if !orders.isEmpty { print("") }
                print("WooCommerce orders (dismiss with `registrar orders dismiss STORE:ORDER` once dealt with):")
                var table = TextTable(["ORDER", "SINCE", "ATTENTION", "DETAIL"])
                for flag in flagged {
                    table.add([flag.reference, Timestamp.format(flag.since), flag.attention.rawValue, flag.detail])
                }
                print(table.render())
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one order with its payments and jobs.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order reference.") var reference: String
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            guard let order = try await store.order(reference: reference) else { throw CLIError("no order \(reference)") }
            let payments = try await store.payments(ofOrder: reference)
            let jobs = try await store.jobs(ofOrder: reference)
            if json { return try JSONOutput.print(OrdersAPIShape.json(order, payments: payments, jobs: jobs)) }
            print("order \(order.reference)  \(order.status.rawValue)\(order.attention.map { "  needs attention: \($0.rawValue)" } ?? "")")
            print("  email:    \(order.email)")
            print("  total:    \(order.total) \(order.currency)  (profile \(order.profileID))")
            if order.discountTotal > 0 || order.coupon != nil {
                print("  priced:   \(Money.format(order.listTotal)) at list price − \(Money.format(order.discountTotal)) discount"
                    + (order.coupon.map { " (coupon \($0))" } ?? ""))
            }
            if let transaction = order.transactionID { print("  paid by:  transaction \(transaction)") }
            for item in order.items {
                let off = item.discountAmount > 0 ? " − \(Money.format(item.discountAmount))" : ""
                print("  item:     \(item.quantity) × \(item.courseID)\(item.mode.map { " (\($0))" } ?? "") at \(item.unitPrice)\(off): \(item.fulfilment ?? "")")
            }
            for payment in payments {
                print("  payment:  \(Timestamp.format(payment.createdAt))  \(payment.decision)  \(payment.transactionID)  \(payment.amount ?? "-") \(payment.currency ?? "")  → \(payment.outcome)")
            }
            for refund in try await store.refunds(ofOrder: reference, source: .cybersource) {
                print("  refund:   \(Timestamp.format(refund.at))  \(Money.format(refund.amount)) \(refund.currency)"
                    + (refund.line.map { " on item \($0)" } ?? "") + (refund.reference.map { "  \($0)" } ?? "") + "  (\(refund.origin.rawValue))")
            }
            for job in jobs { print("  job \(job.id):   \(job.kind) \(job.state)\(job.lastError.map { ": \($0)" } ?? "")") }
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide an order CyberSource held for review: --accept pays and enrolls, --reject refuses it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order reference.") var reference: String
        @Flag(help: "Accept the payment: the order is paid and its seats fulfilled.") var accept = false
        @Flag(help: "Reject the payment: nothing is enrolled.") var reject = false

        func validate() throws {
            if accept == reject { throw ValidationError("give exactly one of --accept and --reject") }
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let jobs: [EnqueuedJob]
            do { jobs = try await store.review(reference: reference, accept: accept, actor: operatorName()) } catch let error as OrderError {
                throw CLIError(error.description)
            }
            if accept {
                print("order \(reference) accepted; enroll jobs: \(jobs.isEmpty ? "none (multi-seat items await codes)" : jobs.map { String($0.id) }.joined(separator: ", "))")
            } else {
                print("order \(reference) rejected; nothing enrolled")
            }
        }
    }

    struct Refund: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a refund made at the gateway: a line refunded whole unenrolls its seat or voids its codes.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order reference.") var reference: String
        @Option(help: "The amount refunded, in the order's currency (\"49.00\").") var amount: String
        @Option(help: "The item refunded (0 for the first); without it, the order as a whole.") var line: Int?
        @Option(name: .customLong("reference"), help: "The gateway's request id of the refund: the same one recorded twice is one refund.")
        var refundReference: String?

        func validate() throws {
            guard let value = Money.parse(amount), value > 0 else {
                throw ValidationError("--amount \(amount) is not an amount above 0 (digits, at most two decimals: 49.00)")
            }
            if let line, line < 0 { throw ValidationError("--line \(line) is not an item index") }
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let outcome: RefundOutcome
            do {
                outcome = try await store.recordRefund(GatewayRefund(orderRef: reference, amount: Money.parse(amount) ?? 0, line: line,
                                                                     reference: refundReference), actor: operatorName())
            } catch let error as RefundError { throw CLIError(error.description) } catch let error as OrderError { throw CLIError(error.description) }
            let what = "\(Money.format(outcome.refund.amount)) \(outcome.refund.currency) on order \(reference)" + (line.map { " line \($0)" } ?? "")
            if outcome.alreadyRecorded { return print("already recorded: \(what); nothing changed") }
            print("refund recorded: \(what)")
            for note in outcome.notes { print("  \(note)") }
            if !outcome.jobs.isEmpty { print("  unenroll jobs: \(outcome.jobs.map { String($0.id) }.joined(separator: ", "))") }
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear a WooCommerce order's attention flag once dealt with (codes revoked, or the learners kept).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order as `orders list --attention` names it: STORE:ORDER_ID.") var reference: String
        @Option(help: "What was decided, for the audit trail.") var note: String?

        func validate() throws {
            if FlaggedStoreOrder.parseReference(reference) == nil {
                throw ValidationError("\(reference) is not STORE:ORDER_ID (as `registrar orders list --attention` lists it)")
            }
        }

        func run() async throws {
            guard let (storeID, orderID) = FlaggedStoreOrder.parseReference(reference) else { return }
            let store = try await global.openStore(try global.loadConfig())
            guard let flag = try await store.dismissStoreOrder(store: storeID, orderID: orderID, actor: operatorName(), note: note) else {
                throw CLIError("WooCommerce order \(reference) needs no attention")
            }
            print("order \(flag.reference): \(flag.attention.rawValue) dismissed")
        }
    }
}
