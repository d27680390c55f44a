import ArgumentParser
import CurlHTTP
import Foundation
import OpenEdX
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct ReportsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Finance reports: seats sold, the enrollment audit against the LMS, revenue, reconciliation with the gateway.",
        subcommands: [Seats.self, Audit.self, Revenue.self, Reconcile.self]
    )

    struct Format: ParsableArguments {
        @Flag(help: "Print a JSON document.") var json = false
        @Flag(help: "Print CSV (RFC 4180, a header row).") var csv = false

        func validate() throws {
            if json && csv { throw ValidationError("give at most one of --json and --csv") }
        }
    }

    struct Staff: ParsableArguments {
        @Option(help: "A file of course staff emails, one per line (added to reports.staff_emails).") var staff: String?

        func emails() throws -> [String] {
            guard let staff else { return [] }
            let text: String
            do { text = try String(contentsOfFile: staff, encoding: .utf8) } catch {
                throw CLIError("\(staff): cannot read: \(error.localizedDescription)")
            }
            var emails: [String] = []
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty || line.hasPrefix("#") { continue }
                if let problem = EmailAddressRule.problem(line) { throw CLIError("\(staff): line \(number + 1): \(line): \(problem)") }
                emails.append(line.lowercased())
            }
            return emails
        }
    }

    static func desk(_ config: RegistrarConfig, _ store: any RegistrarStorage, lms: Bool) -> ReportDesk {
        var roster: (any EnrollmentRoster)?
        if lms {
            roster = LMSRoster(client: OpenEdXClient(settings: OpenEdXSettings(config.openedx), http: Handlers.httpClient(config)),
                               store: store)
        }
        return ReportDesk(store: store, roster: roster, staff: config.reports.staffEmails)
    }

    struct Seats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seats sold for a course run: paid single seats and codes by source.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The course run.") var course: String
        @OptionGroup var staff: Staff
        @OptionGroup var format: Format

        func run() async throws {
            let config = try global.loadConfig()
            let report = try await ReportsCommand.desk(config, try await global.openStore(config), lms: false)
                .seats(courseID: course, extraStaff: try staff.emails())
            if format.json { return try JSONOutput.print(report.json) }
            if format.csv { return print(report.csv, terminator: "") }
            var table = TextTable(["", course])
            table.add(["paid single seats", String(report.paidSingleSeats)])
            for origin in SeatsReport.CodeFact.Origin.allCases {
                table.add(["codes generated (\(origin.rawValue.replacingOccurrences(of: "_", with: "-")))", String(report.codesGenerated[origin] ?? 0)])
            }
            table.add(["codes redeemed", String(report.codesRedeemed)])
            table.add(["codes unredeemed", String(report.codesUnredeemed)])
            table.add(["codes void", String(report.codesVoid)])
            table.add(["seats sold", String(report.seatsSold)])
            table.add(["seats sold without staff", String(report.seatsSoldWithoutStaff)])
            print(table.render())
        }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain every active enrollment of a course run in the LMS, and list the gaps both ways.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The course run.") var course: String
        @OptionGroup var staff: Staff
        @OptionGroup var format: Format

        func run() async throws {
            let config = try global.loadConfig()
            let audit: EnrollmentAudit
            do {
                audit = try await ReportsCommand.desk(config, try await global.openStore(config), lms: true)
                    .audit(courseID: course, extraStaff: try staff.emails())
            } catch let error as ReportError { throw CLIError(error.description) }
            if format.json { return try JSONOutput.print(audit.json) }
            if format.csv { return print(audit.csv, terminator: "") }
            print(audit.equation)
            for (name, findings) in [("enrolled_without_payment", audit.enrolledWithoutPayment),
                                     ("paid_without_enrollment", audit.paidWithoutEnrollment),
                                     ("refunded_but_enrolled", audit.refundedButEnrolled)] {
                print("\n\(name): \(findings.count)")
                guard !findings.isEmpty else { continue }
                var table = TextTable(["EMAIL", "USERNAME", "REFERENCE", "JOB"])
                for finding in findings {
                    table.add([finding.email ?? "(unknown)", finding.username ?? "", finding.reference ?? "",
                               finding.job.map { "\($0.id) \($0.state)" } ?? ""])
                }
                print(table.render())
            }
        }
    }

    struct Revenue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Money per course run and currency: gross, invoices, discounts, refunds, net.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this course run.") var course: String?
        @Option(help: "From this day (YYYY-MM-DD, UTC), included.") var from: String?
        @Option(help: "To this day (YYYY-MM-DD, UTC), included.") var to: String?
        @OptionGroup var format: Format

        func validate() throws { _ = try period() }

        func period() throws -> RevenueReport.Period {
            var period = RevenueReport.Period()
            if let from {
                guard let day = CivilCalendar.date(from) else { throw ValidationError("--from \(from) is not a date (YYYY-MM-DD)") }
                period.from = day
            }
            if let to {
                guard let day = CivilCalendar.date(to) else { throw ValidationError("--to \(to) is not a date (YYYY-MM-DD)") }
                period.to = day.addingTimeInterval(86_400)
            }
            if let start = period.from, let end = period.to, start >= end { throw ValidationError("--from \(from!) is after --to \(to!)") }
            return period
        }

        func run() async throws {
            let config = try global.loadConfig()
            let report = try await ReportsCommand.desk(config, try await global.openStore(config), lms: false)
                .revenue(courseID: course, period: try period())
            if format.json { return try JSONOutput.print(report.json) }
            if format.csv { return print(report.csv, terminator: "") }
            if report.rows.isEmpty { return print("no sales, invoices or refunds" + (course.map { " for \($0)" } ?? "")) }
            var table = TextTable(report.table[0].map { $0.uppercased() })
            for row in report.table.dropFirst() { table.add(row) }
            print(table.render())
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match CyberSource's Payment Batch Detail Report against Registrar's payments and refunds.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The report, as CyberSource's Business Center exports it (CSV).") var cybersource: String
        @Flag(help: "Record the refunds the report lists and Registrar has not seen, as `orders refund` would: once.")
        var applyRefunds = false
        @OptionGroup var format: Format

        func run() async throws {
            let config = try global.loadConfig()
            let text: String
            do { text = try String(contentsOfFile: cybersource, encoding: .utf8) } catch {
                throw CLIError("\(cybersource): cannot read: \(error.localizedDescription)")
            }
            let result: (Reconciliation, applied: Int)
            do {
                result = try await ReportsCommand.desk(config, try await global.openStore(config), lms: false)
                    .reconcile(csv: text, apply: applyRefunds, actor: operatorName())
            } catch let error as ReportError { throw CLIError("\(cybersource): \(error.description)") }
            let (reconciliation, applied) = result
            if format.json { return try JSONOutput.print(reconciliation.json(applied: applyRefunds ? applied : nil)) }
            if format.csv { return print(reconciliation.csv, terminator: "") }
            print("period: \(reconciliation.period)")
            for (name, entries) in [("matched", reconciliation.matched), ("amount_mismatch", reconciliation.amountMismatch),
                                    ("in_gateway_only", reconciliation.inGatewayOnly), ("in_registrar_only", reconciliation.inRegistrarOnly),
                                    ("refund_not_recorded", reconciliation.refundNotRecorded)] {
                print("\n\(name): \(entries.count)")
                guard !entries.isEmpty, name != "matched" else { continue }
                var table = TextTable(["ORDER", "REQUEST ID", "GATEWAY", "REGISTRAR", "NOTE"])
                for entry in entries {
                    table.add([entry.orderRef, entry.requestID, entry.gatewayAmount.map { "\(Money.format($0)) \(entry.currency)" } ?? "",
                               entry.registrarAmount.map { "\(Money.format($0)) \(entry.currency)" } ?? "", entry.note ?? ""])
                }
                print(table.render())
            }
            if applyRefunds {
                print("\n\(applied == 0 ? "no refund to record" : applied == 1 ? "1 refund recorded" : "\(applied) refunds recorded")")
            } else if !reconciliation.refundsToApply.isEmpty {
                print("\nrecord them with --apply-refunds")
            }
        }
    }
}
