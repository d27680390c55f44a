import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct CouponsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coupons",
        abstract: "Coupons a storefront's order can name: percent or an amount off, for some courses, until a day, for some uses.",
        subcommands: [Create.self, List.self, Show.self, Deactivate.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a coupon. Codes are never reused.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The code buyers type: 1 to 32 letters, digits or - (kept upper-cased).") var code: String
        @Option(help: "Percent off each line, above 0 and at most 100.") var percent: String?
        @Option(help: "An amount off each line, e.g. 10.00 (with --currency).") var amount: String?
        @Option(help: "The amount's currency, e.g. USD.") var currency: String?
        @Option(help: "Only this course run, or a prefix ending in + like course-v1:MITx+ (repeat for several; default: every course).")
        var course: [String] = []
        @Option(help: "The last day it can be used, YYYY-MM-DD (UTC).") var expires: String?
        @Option(help: "At most this many orders may use it.") var maxUses: Int?
        @Option(help: "What it is for (kept with it).") var description: String?

        func run() async throws {
            let coupon: Coupon
            switch CouponDefinition.coupon(code: code, percent: percent, amount: amount, currency: currency, courses: course,
                                           expires: expires, maxUses: maxUses) {
            case .failure(let problem): throw CLIError(problem.message)
            case .success(let made): coupon = made
            }
            let store = try await global.openStore(try global.loadConfig())
            do { try await store.createCoupon(coupon, description: description, actor: operatorName()) } catch let error as CouponError {
                throw CLIError(error.description)
            }
            print("coupon \(coupon.code): \(coupon.off) off \(CouponsCommand.courses(coupon))"
                  + (coupon.expires.map { ", until \($0)" } ?? "") + (coupon.maxUses.map { ", at most \($0) uses" } ?? ""))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List coupons, newest first, with their uses.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let records = try await store.coupons()
            if json { return try JSONOutput.print(records.map(CouponJSON.json)) }
            guard !records.isEmpty else { return print("no coupons") }
            var table = TextTable(["CODE", "OFF", "COURSES", "EXPIRES", "MAX USES", "USED", "HELD", "ACTIVE", "DESCRIPTION"])
            for record in records {
                let coupon = record.coupon
                table.add([coupon.code, coupon.off, coupon.courses.isEmpty ? "all courses" : coupon.courses.joined(separator: " "),
                           coupon.expires ?? "-", coupon.maxUses.map(String.init) ?? "-", String(record.used), String(record.held),
                           coupon.active ? "yes" : "no", truncate(record.description, 40)])
            }
            print(table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one coupon and its uses.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The code (any case).") var code: String
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let record = try await CouponsCommand.find(code, in: store)
            if json { return try JSONOutput.print(CouponJSON.json(record)) }
            let coupon = record.coupon
            print("coupon \(coupon.code)  \(coupon.active ? "active" : "deactivated")")
            print("  off:         \(coupon.off)")
            print("  courses:     \(coupon.courses.isEmpty ? "all courses" : coupon.courses.joined(separator: ", "))")
            print("  expires:     \(coupon.expires ?? "never")")
            print("  max uses:    \(coupon.maxUses.map(String.init) ?? "unlimited")")
            print("  used:        \(record.used) paid, \(record.held) held by orders awaiting payment")
            if let description = record.description { print("  description: \(description)") }
            print("  created:     \(Timestamp.format(record.createdAt)) by \(record.createdBy)")
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deactivate a coupon: no new order can use it; orders holding a use keep their discount.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The code (any case).") var code: String

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let found = try await CouponsCommand.find(code, in: store)
            let record: CouponRecord
            do { record = try await store.deactivateCoupon(code: found.coupon.code, actor: operatorName()) } catch let error as CouponError {
                throw CLIError(error.description)
            }
            print("coupon \(record.coupon.code) deactivated (\(record.used) used, \(record.held) held: those orders keep their discount)")
        }
    }

    static func find(_ typed: String, in store: any CouponBook) async throws -> CouponRecord {
        guard let code = CouponDefinition.normalizedCode(typed), let record = try await store.coupon(code: code) else {
            throw CLIError("no coupon \(ControlCharacterEscaping.escaped(String(typed.prefix(40))))")
        }
        return record
    }

    static func courses(_ coupon: Coupon) -> String {
        coupon.courses.isEmpty ? "all courses" : coupon.courses.joined(separator: ", ")
    }
}
