import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct PricesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices",
        abstract: "The price list: what an order item without a unit price pays, per course run, mode and currency.",
        subcommands: [Set.self, List.self, Remove.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a price, or change the listed one.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The course run, e.g. course-v1:edX+DemoX+2026.") var course: String
        @Option(help: "The course mode, e.g. verified.") var mode: String
        @Option(help: "The price, e.g. 49.00.") var price: String
        @Option(help: "Its currency, e.g. USD.") var currency: String

        func run() async throws {
            // Checked in run, not validate: a refused price is the operator's sentence and status 1, like the API's 422.
            if let problem = ListedPrice.problem(courseID: course, mode: mode, currency: currency, price: price) { throw CLIError(problem) }
            let store = try await global.openStore(try global.loadConfig())
            let listed = ListedPrice(courseID: course, mode: mode, currency: currency, price: Money.parse(price) ?? 0)
            let previous = try await store.setPrice(listed, actor: operatorName())
            let was = previous.map { $0.price == listed.price ? " (unchanged)" : " (was \(Money.format($0.price)) \($0.currency))" } ?? " (new)"
            print("\(listed.courseID) \(listed.mode): \(Money.format(listed.price)) \(listed.currency)\(was)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the listed prices by course run, mode and currency.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this course run (repeat for several).") var course: [String] = []
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let prices = try await store.prices(courseIDs: course.isEmpty ? nil : course)
            if json { return try JSONOutput.print(prices.map(PriceJSON.json)) }
            guard !prices.isEmpty else { return print("no prices listed") }
            var table = TextTable(["COURSE RUN", "MODE", "PRICE"])
            for price in prices { table.add([price.courseID, price.mode, "\(Money.format(price.price)) \(price.currency)"]) }
            print(table.render())
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a course mode's price (in one currency, or in all); its orders then need an explicit unit price.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The course run.") var course: String
        @Option(help: "The course mode.") var mode: String
        @Option(help: "Only this currency (default: every currency listed).") var currency: String?

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let removed = try await store.removePrices(courseID: course, mode: mode, currency: currency?.uppercased(), actor: operatorName())
            guard !removed.isEmpty else {
                throw CLIError("no price is listed for \(course) \(mode)\(currency.map { " in \($0.uppercased())" } ?? "")")
            }
            for price in removed { print("\(price.courseID) \(price.mode): \(Money.format(price.price)) \(price.currency) removed") }
        }
    }
}
