import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "The raw inbound ledger: every webhook and callback as received, with its verdict.",
        subcommands: [List.self, Show.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this source (woocommerce, cybersource) or channel (a store id).") var source: String?
        @Option(help: "Only this verdict (accepted, ignored, ping, rejected, stale, ...).") var verdict: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let deliveries = try await store.deliveries(DeliveryFilter(source: source, verdict: verdict, limit: limit))
            if json { return try JSONOutput.print(deliveries.map { DeliveryJSON($0, full: false) }) }
            var table = TextTable(["ID", "RECEIVED", "SOURCE", "VERDICT", "HTTP", "JOBS", "REASON"])
            for delivery in deliveries {
                table.add(["\(delivery.id)", Timestamp.format(delivery.receivedAt),
                           delivery.source + (delivery.channel.map { "/\($0)" } ?? ""), delivery.verdict,
                           "\(delivery.httpStatus)", delivery.jobIDs.map(String.init).joined(separator: ","),
                           truncate(delivery.reason, 60)])
            }
            print(deliveries.isEmpty ? "no deliveries match" : table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one delivery with its headers and raw body.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The delivery id.") var id: Int64
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            guard let delivery = try await store.delivery(id: id) else { throw CLIError("no delivery \(id)") }
            if json { return try JSONOutput.print(DeliveryJSON(delivery, full: true)) }
            print("delivery \(delivery.id)  \(delivery.source)\(delivery.channel.map { "/\($0)" } ?? "")  \(delivery.verdict) (HTTP \(delivery.httpStatus))")
            print("  received: \(Timestamp.format(delivery.receivedAt))")
            if let reason = delivery.reason { print("  reason:   \(reason)") }
            print("  jobs:     \(delivery.jobIDs.isEmpty ? "none" : delivery.jobIDs.map(String.init).joined(separator: ", "))")
            if delivery.bodyIsPartial || delivery.bodySHA256 != nil {
                let kept = delivery.body.isEmpty ? "none of it kept" : "the first \(delivery.body.count) kept"
                print("  body:     \(delivery.bodySize) bytes, \(kept)\(delivery.bodySHA256.map { ", sha256 \($0)" } ?? "")")
            }
            for (name, value) in delivery.headers.sorted(by: { $0.key < $1.key }) { print("  \(name): \(value)") }
            print("\n" + delivery.bodyText)
        }
    }
}
