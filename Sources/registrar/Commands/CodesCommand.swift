import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarStore

struct CodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codes",
        abstract: "Registration codes: list, show, void, and revoke a learner's seat.",
        subcommands: [List.self, Show.self, Void.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List codes, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this course run.") var course: String?
        @Option(help: "Only codes of this order (its source reference).") var order: String?
        @Option(help: "Only codes of this invoice.") var invoice: String?
        @Option(help: "Only codes of this contract.") var contract: String?
        @Option(help: "Only this state: active, redeemed or void.") var state: String?
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "Print a JSON array.") var json = false
        @Flag(help: "Print the codes CSV (code, redeem_url, course_id, …).") var csv = false

        func validate() throws {
            if json && csv { throw ValidationError("--json and --csv: choose one") }
            if let state, CodeState(rawValue: state) == nil { throw ValidationError("--state is active, redeemed or void") }
            if [order, invoice, contract].compactMap({ $0 }).count > 1 {
                throw ValidationError("--order, --invoice and --contract: name one source")
            }
        }

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            var filter = CodeFilter(courseID: course, state: state.flatMap(CodeState.init), limit: limit)
            if let order { (filter.source, filter.sourceReference) = ("order", order) }
            if let invoice { (filter.source, filter.sourceReference) = ("invoice", invoice) }
            if let contract { (filter.source, filter.sourceReference) = ("contract", contract) }
            let codes = try await store.codes(filter)
            if json { return try JSONOutput.print(codes.map(CodeJSON.init)) }
            if csv { return print(CodeCSV.render(codes.map(CodesCommand.csvRow), publicURL: config.server.publicURL), terminator: "") }
            var table = TextTable(["CODE", "COURSE RUN", "MODE", "SOURCE", "STATE", "REDEEMED BY"])
            for code in codes {
                table.add([code.code.grouped, code.courseID, code.mode ?? "-", "\(code.source) \(code.sourceReference)",
                           code.state.rawValue, code.redemptions.map(\.email).joined(separator: ", ")])
            }
            print(codes.isEmpty ? "no codes match" : table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one code and who redeemed it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The code, as typed (any case, dashes optional).") var code: String
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let parsed = try CodesCommand.parse(code)
            guard let record = try await store.code(parsed) else { throw CLIError("no code \(parsed.grouped)") }
            if json { return try JSONOutput.print(CodeJSON(record)) }
            print("code \(record.code.grouped)  \(record.state.rawValue)\(record.unlimited ? " (unlimited)" : "")")
            print("  course run: \(record.courseID)\(record.mode.map { " (\($0))" } ?? "")")
            print("  source:     \(record.source) \(record.sourceReference)")
            if record.price > 0 { print("  price:      \(Money.format(record.price)) \(record.currency ?? "")") }
            print("  created:    \(Timestamp.format(record.createdAt))")
            if let reason = record.voidReason {
                print("  void:       \(reason)\(record.voidedBy.map { " (by \($0)" } ?? "")\(record.voidedAt.map { ", \(Timestamp.format($0)))" } ?? ")")")
            }
            for redemption in record.redemptions {
                print("  redeemed:   \(redemption.email) at \(Timestamp.format(redemption.at))\(redemption.jobID.map { ", enroll job \($0)" } ?? "")")
            }
        }
    }

    struct Void: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Void codes: they can no longer be redeemed. Nobody is unenrolled (that is `codes revoke`).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The codes.") var codes: [String]
        @Option(help: "Why (kept with the code).") var reason: String?

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let parsed = try codes.map(CodesCommand.parse)
            let actor = operatorName()
            let voided = try await store.voidCodes(parsed, reason: reason ?? "voided by \(actor)", actor: actor)
            let found = Set(voided.map(\.code))
            for record in voided { print("\(record.code.grouped) void (\(record.voidReason ?? ""))") }
            let missing = parsed.filter { !found.contains($0) }
            if !missing.isEmpty { throw CLIError("no such code: \(missing.map(\.grouped).joined(separator: ", "))") }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a learner's seat back: void the code and unenroll that learner from its course run.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The code.") var code: String
        @Option(help: "The learner who redeemed it.") var email: String

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let parsed = try CodesCommand.parse(code)
            switch try await store.revoke(parsed, email: normalizedEmail(email), actor: operatorName()) {
            case .revoked(let record, let job):
                print("\(record.code.grouped) void; unenroll job \(job) for \(normalizedEmail(email)) in \(record.courseID)")
            case .notRedeemedBy(let record):
                let who = record.redemptions.map(\.email)
                throw CLIError("\(normalizedEmail(email)) did not redeem \(record.code.grouped)"
                               + (who.isEmpty ? " (nobody has)" : " (redeemed by \(who.joined(separator: ", ")))"))
            case .unknownCode:
                throw CLIError("no code \(parsed.grouped)")
            }
        }
    }

    static func parse(_ text: String) throws -> RegistrationCode {
        switch RegistrationCode.parse(text) {
        case .success(let code): return code
        case .failure(let problem): throw CLIError("\"\(text)\": \(problem.message)")
        }
    }

    static func csvRow(_ record: CodeRecord) -> CodeCSV.Row {
        CodeCSV.Row(code: record.code, courseID: record.courseID, mode: record.mode, source: record.source,
                    invoiceID: record.source == "invoice" ? record.sourceReference : nil,
                    orderReference: record.source == "order" ? record.sourceReference : nil, state: record.state,
                    redemptions: record.redemptions.map { ($0.email, Timestamp.format($0.at)) })
    }
}

/// `codes list --json`, `codes show --json`: whole codes (operators hand them out).
struct CodeJSON: Encodable {
    struct Redemption: Encodable {
        var email: String
        var at: Date
        var job: Int64?
    }

    var code: String
    var courseID: String
    var mode: String?
    var source: String
    var sourceRef: String
    var unlimited: Bool
    var price: String
    var currency: String?
    var state: String
    var createdAt: Date
    var voidReason: String?
    var redemptions: [Redemption]

    init(_ record: CodeRecord) {
        code = record.code.grouped
        courseID = record.courseID
        mode = record.mode
        source = record.source
        sourceRef = record.sourceReference
        unlimited = record.unlimited
        price = Money.format(record.price)
        currency = record.currency
        state = record.state.rawValue
        createdAt = record.createdAt
        voidReason = record.voidReason
        redemptions = record.redemptions.map { Redemption(email: $0.email, at: $0.at, job: $0.jobID) }
    }

    enum CodingKeys: String, CodingKey {
        case code, mode, source, unlimited, price, currency, state, redemptions
        case courseID = "course_id"
        case sourceRef = "source_ref"
        case createdAt = "created_at"
        case voidReason = "void_reason"
    }
}
