import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct OrgsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgs",
        abstract: "Organizations that buy access under contracts.",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an organization; its key goes into its contract runs' keys.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The organization's name.") var name: String
        @Option(help: "Letters, digits, _ . - (at most 30).") var key: String
        @Flag(help: "Print a JSON document.") var json = false

        func validate() throws {
            if let problem = OrganizationKey.problem(key) { throw ValidationError(problem) }
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let org: Organization
            do { org = try await store.createOrganization(name: name, key: key) } catch let error as ContractError {
                throw CLIError(error.description)
            }
            if json { return try JSONOutput.print(ContractJSON.json(org)) }
            print("organization \(org.id): \(org.name) (key \(org.key))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let orgs = try await store.organizations()
            if json { return try JSONOutput.print(orgs.map(ContractJSON.json)) }
            guard !orgs.isEmpty else { return print("no organizations") }
            var table = TextTable(["ID", "NAME", "KEY", "CREATED"])
            for org in orgs { table.add([String(org.id), org.name, org.key, Timestamp.format(org.createdAt)]) }
            print(table.render())
        }
    }
}
