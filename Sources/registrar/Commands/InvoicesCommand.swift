import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct InvoicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoices",
        abstract: "Out-of-band sales of seats to a company: codes, the CSV mailed to the recipient, payments and refunds.",
        subcommands: [Create.self, List.self, Show.self, Codes.self, Pay.self, Refund.self, Void.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an invoice and its codes, and mail the codes CSV to the recipient (one commit).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The course run.") var course: String
        @Option(help: "Seats (codes) sold.") var seats: Int
        @Option(name: .customLong("unit-price"), help: "Price of one seat, like 49.00.") var unitPrice: String
        @Option(help: "ISO 4217 currency.") var currency: String
        @Option(help: "The buyer.") var company: String
        @Option(name: .customLong("contact-email")) var contactEmail: String
        @Option(name: .customLong("recipient-email"), help: "Who gets the codes.") var recipientEmail: String
        @Option var mode: String?
        @Option(name: .customLong("contact-name")) var contactName: String?
        @Option(name: .customLong("recipient-name")) var recipientName: String?
        @Option var po: String?
        @Option(name: .customLong("customer-reference")) var customerReference: String?
        @Option(name: .customLong("internal-reference")) var internalReference: String?
        @Option var address: String?
        @Option var note: String?
        @Option(help: "Also write the codes CSV here.") var out: String?
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let config = try global.loadConfig()
            let request = InvoiceRequest(courseID: course, mode: mode, seats: seats, unitPrice: unitPrice, currency: currency,
                                         companyName: company, contactName: contactName, contactEmail: contactEmail,
                                         recipientName: recipientName, recipientEmail: recipientEmail, poNumber: po,
                                         customerReference: customerReference, internalReference: internalReference,
                                         address: address, note: note)
            let checked: InvoiceRules.Checked
            switch InvoiceRules.check(request) {
            case .success(let found): checked = found
            case .failure(let problem): throw ValidationError(problem.message)
            }
            let store = try await global.openStore(config)
            let (invoice, codes) = try await store.createInvoice(checked, actor: operatorName(), publicURL: config.server.publicURL)
            if let out { try InvoicesCommand.writeCSV(invoice, codes, to: out, publicURL: config.server.publicURL) }
            if json { return try JSONOutput.print(InvoiceJSON(invoice)) }
            print("invoice \(invoice.id): \(invoice.request.seats) codes for \(invoice.request.companyName), \(Money.format(invoice.total)) \(invoice.request.currency); the codes CSV is mailed to \(invoice.request.recipientEmail)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List invoices, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let invoices = try await store.invoices(limit: limit)
            if json { return try JSONOutput.print(invoices.map(InvoiceJSON.init)) }
            var table = TextTable(["ID", "COMPANY", "COURSE RUN", "SEATS", "TOTAL", "STATUS"])
            for invoice in invoices {
                table.add(["\(invoice.id)", invoice.request.companyName, invoice.request.courseID, "\(invoice.request.seats)",
                           "\(Money.format(invoice.total)) \(invoice.request.currency)", invoice.status.rawValue])
            }
            print(invoices.isEmpty ? "no invoices" : table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an invoice, its transactions and its history.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            guard let invoice = try await store.invoice(id: id) else { throw CLIError("no invoice \(id)") }
            if json { return try JSONOutput.print(InvoiceJSON(invoice)) }
            let request = invoice.request
            print("invoice \(invoice.id)  \(invoice.status.rawValue)")
            print("  company:    \(request.companyName)\(request.contactName.map { ", \($0)" } ?? "") <\(request.contactEmail)>")
            print("  recipient:  \(request.recipientName.map { "\($0) " } ?? "")<\(request.recipientEmail)>")
            print("  seats:      \(request.seats) × \(Money.format(invoice.unitPrice)) = \(Money.format(invoice.total)) \(request.currency) in \(request.courseID)\(request.mode.map { " (\($0))" } ?? "")")
            for (label, value) in [("PO:", request.poNumber), ("customer:", request.customerReference), ("internal:", request.internalReference)] {
                if let value { print("  \(label.padding(toLength: 11, withPad: " ", startingAt: 0)) \(value)") }
            }
            for event in invoice.history {
                print("  \(Timestamp.format(event.at))  \(event.action)  \(event.detail)  (\(event.actor))")
            }
        }
    }

    struct Codes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The invoice's codes CSV (the design's columns).")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Option(help: "Write it to this file instead of printing it.") var out: String?

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            guard let invoice = try await store.invoice(id: id) else { throw CLIError("no invoice \(id)") }
            let codes = try await store.codes(CodeFilter(source: "invoice", sourceReference: String(id), limit: InvoiceRules.maxSeats))
            if let out {
                try InvoicesCommand.writeCSV(invoice, codes.reversed(), to: out, publicURL: config.server.publicURL)
            } else {
                print(InvoicesCommand.csv(invoice, codes.reversed(), publicURL: config.server.publicURL), terminator: "")
            }
        }
    }

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a payment.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Option var amount: String
        @Option var reference: String?

        func run() async throws { try await InvoicesCommand.transaction(global, id, amount, reference, sign: 1) }
    }

    struct Refund: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a refund (codes are not voided: `invoices void` does that).")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Option var amount: String
        @Option var reference: String?

        func run() async throws { try await InvoicesCommand.transaction(global, id, amount, reference, sign: -1) }
    }

    struct Void: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Void the invoice and its unredeemed codes (redeemed ones stay).")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            do {
                let (invoice, voided) = try await store.voidInvoice(id: id, actor: operatorName())
                print("invoice \(invoice.id) void; \(voided) unredeemed codes voided")
            } catch let error as InvoiceError { throw CLIError(error.description) }
        }
    }

    static func transaction(_ global: GlobalOptions, _ id: Int64, _ amount: String, _ reference: String?, sign: Decimal) async throws {
        guard let value = Money.parse(amount), value > 0 else { throw ValidationError("--amount \"\(amount)\" is not an amount like 49.00") }
        if let reference, ControlCharacterEscaping.containsControl(reference) { throw ValidationError("--reference holds a control character") }
        let store = try await global.openStore(try global.loadConfig())
        do {
            let invoice = try await store.recordTransaction(invoice: id, amount: value * sign, reference: reference, actor: operatorName())
            print("invoice \(invoice.id): \(sign > 0 ? "payment" : "refund") of \(Money.format(value)) \(invoice.request.currency) recorded; \(invoice.status.rawValue)")
        } catch let error as InvoiceError { throw CLIError(error.description) }
    }

    static func csv(_ invoice: Invoice, _ codes: [CodeRecord], publicURL: String?) -> String {
        CodeCSV.render(invoice.csvRows(codes), publicURL: publicURL)
    }

    static func writeCSV(_ invoice: Invoice, _ codes: [CodeRecord], to path: String, publicURL: String?) throws {
        do { try csv(invoice, codes, publicURL: publicURL).write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw CLIError("\(path): cannot write: \(error.localizedDescription)")
        }
    }
}

/// An invoice as the CLI's and the API's JSON show it.
struct InvoiceJSON: Encodable {
    var id: Int64
    var status: String
    var courseID: String
    var mode: String?
    var seats: Int
    var unitPrice: String
    var total: String
    var currency: String
    var companyName: String
    var contactEmail: String
    var recipientEmail: String
    var poNumber: String?
    var customerReference: String?
    var internalReference: String?
    var createdBy: String
    var createdAt: Date
    var history: [[String: String]]

    init(_ invoice: Invoice) {
        id = invoice.id
        status = invoice.status.rawValue
        courseID = invoice.request.courseID
        mode = invoice.request.mode
        seats = invoice.request.seats
        unitPrice = Money.format(invoice.unitPrice)
        total = Money.format(invoice.total)
        currency = invoice.request.currency
        companyName = invoice.request.companyName
        contactEmail = invoice.request.contactEmail
        recipientEmail = invoice.request.recipientEmail
        poNumber = invoice.request.poNumber
        customerReference = invoice.request.customerReference
        internalReference = invoice.request.internalReference
        createdBy = invoice.createdBy
        createdAt = invoice.createdAt
        history = invoice.history.map { ["at": Timestamp.format($0.at), "actor": $0.actor, "action": $0.action, "detail": $0.detail] }
    }

    enum CodingKeys: String, CodingKey {
        case id, status, mode, seats, total, currency, history
        case courseID = "course_id"
        case unitPrice = "unit_price"
        case companyName = "company_name"
        case contactEmail = "contact_email"
        case recipientEmail = "recipient_email"
        case poNumber = "po_number"
        case customerReference = "customer_reference"
        case internalReference = "internal_reference"
        case createdBy = "created_by"
        case createdAt = "created_at"
    }
}
