import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct OrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Orders sold through the CyberSource hosted checkout.",
        subcommands: [List.self, Show.self, Review.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List orders, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only orders that need a person: duplicate payments, reviews, amount mismatches.") var attention = false
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try global.openStore(try global.loadConfig())
            let orders = try await store.orders(attentionOnly: attention, limit: limit)
            if json {
                var all: [JSONValue] = []
                for order in orders {
                    all.append(OrdersAPIShape.json(order, payments: try await store.payments(ofOrder: order.reference),
                                                   jobs: try await store.jobs(ofOrder: order.reference)))
                }
                return try JSONOutput.print(all)
            }
            var table = TextTable(["REFERENCE", "CREATED", "EMAIL", "TOTAL", "STATUS", "ATTENTION"])
            for order in orders {
                table.add([order.reference, Timestamp.format(order.createdAt), order.email, "\(order.total) \(order.currency)",
                           order.status.rawValue, order.attention?.rawValue ?? ""])
            }
            print(orders.isEmpty ? (attention ? "no order needs attention" : "no orders") : table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one order with its payments and jobs.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order reference.") var reference: String
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try global.openStore(try global.loadConfig())
            guard let order = try await store.order(reference: reference) else { throw CLIError("no order \(reference)") }
            let payments = try await store.payments(ofOrder: reference)
            let jobs = try await store.jobs(ofOrder: reference)
            if json { return try JSONOutput.print(OrdersAPIShape.json(order, payments: payments, jobs: jobs)) }
            print("order \(order.reference)  \(order.status.rawValue)\(order.attention.map { "  needs attention: \($0.rawValue)" } ?? "")")
            print("  email:    \(order.email)")
            print("  total:    \(order.total) \(order.currency)  (profile \(order.profileID))")
            if let transaction = order.transactionID { print("  paid by:  transaction \(transaction)") }
            for item in order.items {
                print("  item:     \(item.quantity) × \(item.courseID)\(item.mode.map { " (\($0))" } ?? "") at \(item.unitPrice): \(item.fulfilment ?? "")")
            }
            for payment in payments {
                print("  payment:  \(Timestamp.format(payment.createdAt))  \(payment.decision)  \(payment.transactionID)  \(payment.amount ?? "-") \(payment.currency ?? "")  → \(payment.outcome)")
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
            let store = try global.openStore(try global.loadConfig())
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
}
