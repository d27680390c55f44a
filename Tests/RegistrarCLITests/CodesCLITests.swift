import Foundation
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

/// `registrar codes list|show|void|revoke` on a real database.
@Suite struct CodesCLITests {
    @Test func operatorsListShowVoidAndRevokeCodes() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let store = try openStore(dir)
        let made = try await store.createCodes(NewCodes(count: 3, courseID: "course-v1:edX+DemoX+2026", mode: "verified",
                                                        source: "order", sourceReference: "main:727:311"))
        _ = try await store.redeem(made[2].code, email: "ada@example.com")
        let environment = ["REGISTRAR_SERVER_PUBLIC_URL": "https://registrar.example.edu"]

        let table = try await runRegistrar(["codes", "list"], database: database)
        #expect(table.status == 0, "\(table.output)")
        #expect(made.allSatisfy { table.output.contains($0.code.grouped) })
        #expect(table.output.contains("ada@example.com"))

        let csv = try await runRegistrar(["codes", "list", "--order", "main:727:311", "--csv"], database: database, environment: environment)
        let lines = csv.output.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == CodeCSV.header.joined(separator: ","))
        #expect(lines.count == 4)
        #expect(lines.contains { $0.hasPrefix("\(made[0].code.grouped),https://registrar.example.edu/redeem?code=\(made[0].code.grouped),") })

        let json = try await runRegistrar(["codes", "list", "--state", "redeemed", "--json"], database: database)
        let listed = try #require(JSONValue.parse(json.output)?.arrayValue)
        #expect(listed.count == 1 && listed[0]["redemptions"]?.arrayValue?.first?["email"]?.stringValue == "ada@example.com")

        let show = try await runRegistrar(["codes", "show", made[0].code.value.lowercased()], database: database)
        #expect(show.status == 0 && show.output.contains("code \(made[0].code.grouped)  active"), "\(show.output)")

        let voided = try await runRegistrar(["codes", "void", made[0].code.grouped, made[1].code.grouped, "--reason", "refund of 2 seats"],
                                            database: database)
        #expect(voided.status == 0, "\(voided.output)")
        #expect(try await store.code(made[1].code)?.voidReason == "refund of 2 seats")

        let unknown = try await runRegistrar(["codes", "void", "0000-0000-0000"], database: database)
        #expect(unknown.status == 1 && unknown.output.contains("no such code: 0000-0000-0000"))
        let malformed = try await runRegistrar(["codes", "show", "7KQ2"], database: database)
        #expect(malformed.status == 1 && malformed.output.contains("a code has 12 letters and digits"))

        let wrongLearner = try await runRegistrar(["codes", "revoke", made[2].code.grouped, "--email", "bo@example.com"], database: database)
        #expect(wrongLearner.status == 1 && wrongLearner.output.contains("redeemed by ada@example.com"))
        let revoked = try await runRegistrar(["codes", "revoke", made[2].code.grouped, "--email", "Ada@Example.com"], database: database)
        #expect(revoked.status == 0 && revoked.output.contains("unenroll job"), "\(revoked.output)")
        #expect(try await store.jobs(JobFilter(kind: .unenroll)).count == 1)
        #expect(try await store.code(made[2].code)?.state == .void)
    }

    @Test func tokensAreScopedToCoursePrefixes() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let bad = try await runRegistrar(["tokens", "create", "--name", "x", "--role", "sales_admin", "--scope", "MITx"], database: database)
        #expect(bad.status == 64 && bad.output.contains("must begin a course key"), "\(bad.output)")
        let made = try await runRegistrar(["tokens", "create", "--name", "mit", "--role", "sales_admin", "--scope", "course-v1:MITx+",
                                           "--scope", "course-v1:HarvardX+"], database: database)
        #expect(made.status == 0 && made.output.contains("limited to course-v1:MITx+, course-v1:HarvardX+"), "\(made.output)")
        let listed = try await runRegistrar(["tokens", "list", "--json"], database: database)
        let token = try #require(JSONValue.parse(listed.output)?.arrayValue?.first)
        #expect(token["scope"] == .array([.string("course-v1:MITx+"), .string("course-v1:HarvardX+")]))
        let table = try await runRegistrar(["tokens", "list"], database: database)
        #expect(table.output.contains("course-v1:MITx+ course-v1:HarvardX+"))
    }

    @Test func invoicesFromTheCommandLine() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let base = ["invoices", "create", "--course", "course-v1:edX+DemoX+2026", "--seats", "3", "--unit-price", "40", "--currency", "usd",
                    "--company", "Acme", "--contact-email", "buyer@acme.example", "--recipient-email", "training@acme.example"]
        let refused = try await runRegistrar(base.map { $0 == "3" ? "0" : $0 }, database: database)
        #expect(refused.status == 64 && refused.output.contains("seats must be between 1 and 10000"), "\(refused.output)")
        let created = try await runRegistrar(base + ["--po", "PO-7", "--out", dir.file("codes.csv")], database: database)
        #expect(created.status == 0 && created.output.contains("invoice 1: 3 codes for Acme, 120.00 USD"), "\(created.output)")
        let csv = try String(contentsOfFile: dir.file("codes.csv"), encoding: .utf8)
        #expect(csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 4)
        #expect(try await runRegistrar(["invoices", "pay", "1", "--amount", "100"], database: database).output.contains("partially_paid"))
        #expect(try await runRegistrar(["invoices", "pay", "1", "--amount", "20", "--reference", "wire"], database: database).output.contains("paid"))
        #expect(try await runRegistrar(["invoices", "refund", "1", "--amount", "120"], database: database).output.contains("refunded"))
        let list = try await runRegistrar(["invoices", "list", "--json"], database: database)
        #expect(JSONValue.parse(list.output)?.arrayValue?.first?["status"]?.stringValue == "refunded")
        let void = try await runRegistrar(["invoices", "void", "1"], database: database)
        #expect(void.output.contains("3 unredeemed codes voided"))
        let show = try await runRegistrar(["invoices", "show", "1"], database: database)
        for action in ["created", "payment", "refund", "void"] { #expect(show.output.contains("  \(action)  "), "\(show.output)") }
        let codes = try await runRegistrar(["invoices", "codes", "1"], database: database)
        #expect(codes.output.components(separatedBy: "\r\n").filter { $0.contains(",void,") }.count == 3)
        #expect(try await runRegistrar(["invoices", "pay", "1", "--amount", "1"], database: database).status == 1)
        #expect(try await runRegistrar(["invoices", "show", "9"], database: database).output.contains("no invoice 9"))
    }
}
