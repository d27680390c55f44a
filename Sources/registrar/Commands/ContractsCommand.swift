import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct ContractsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts",
        abstract: "B2B contracts: a learner cap, a price, dates, runs cloned for the contract, codes that follow the terms.",
        subcommands: [Create.self, Modify.self, Courseware.self, List.self, Show.self, Codes.self, Learners.self, Attach.self, Detach.self]
    )

    static func failing<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch let error as ContractError { throw CLIError(error.description) }
    }

    static func price(_ text: String?) throws -> Decimal? {
        guard let text else { return nil }
        guard let value = Money.parse(text) else { throw ValidationError("--price \(text) is not a decimal amount like 49.00") }
        return value
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a contract; its codes follow with the first contract.sync.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The organization's name.") var organization: String
        @Argument(help: "The contract's name.") var name: String
        @Argument(help: "sso or non-sso.") var integration: String
        @Flag(name: .customLong("create-org"), help: "Create the organization (with --key) if it does not exist.") var createOrg = false
        @Option(help: "The new organization's key.") var key: String?
        @Option(help: "First day, YYYY-MM-DD.") var start: String?
        @Option(help: "Last day, YYYY-MM-DD.") var end: String?
        @Option(name: .customLong("max-learners"), help: "Distinct learners allowed across the contract.") var maxLearners: Int?
        @Option(help: "Price per learner, like 49.00.") var price: String?
        @Option(help: "ISO 4217 currency of the price.") var currency: String?
        @Option var description: String?
        @Flag(help: "Print a JSON document.") var json = false

        func validate() throws {
            guard ContractIntegration(rawValue: integration) != nil else { throw ValidationError("the integration is sso or non-sso, not \(integration)") }
            if createOrg, key == nil { throw ValidationError("--create-org needs --key KEY") }
            if let key, let problem = OrganizationKey.problem(key) { throw ValidationError(problem) }
            if let problem = try terms().problem { throw ValidationError(problem) }
        }

        func terms() throws -> ContractTerms {
            ContractTerms(integration: ContractIntegration(rawValue: integration) ?? .nonSSO, start: start, end: end, maxLearners: maxLearners,
                          price: try ContractsCommand.price(price) ?? 0, currency: currency?.uppercased())
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let contract = try await ContractsCommand.failing {
                var org = try await store.organization(named: organization)
                if org == nil {
                    guard createOrg, let key else {
                        throw CLIError("no organization \(organization): add --create-org --key KEY, or run `registrar orgs create \"\(organization)\" --key KEY`")
                    }
                    org = try await store.createOrganization(name: organization, key: key)
                }
                guard let org else { throw ContractError.unknownOrganization(organization) }
                return try await store.createContract(NewContract(organizationID: org.id, name: name, description: description,
                                                                  terms: try terms(), createdBy: operatorName()))
            }
            if json { return try JSONOutput.print(ContractJSON.json(contract, now: Date())) }
            print("contract \(contract.id): \(contract.name) for \(contract.organization.name); add courseware with `registrar contracts courseware \(contract.id) COURSE…`")
        }
    }

    struct Modify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a contract's terms; its codes follow (contract.sync).")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Option var start: String?
        @Flag(name: .customLong("no-start-date")) var noStartDate = false
        @Option var end: String?
        @Flag(name: .customLong("no-end-date")) var noEndDate = false
        @Option(name: .customLong("max-learners")) var maxLearners: Int?
        @Flag(name: .customLong("no-learner-cap")) var noLearnerCap = false
        @Option var price: String?
        @Flag(name: .customLong("no-price")) var noPrice = false
        @Option var currency: String?
        @Flag(help: "Admit learners again (dates still apply).") var active = false
        @Flag(help: "Admit no learner: redemption answers contract_inactive; codes stay.") var inactive = false
        @Option var description: String?
        @Flag(help: "Print a JSON document.") var json = false

        func validate() throws {
            for (set, unset, name) in [(start != nil, noStartDate, "start"), (end != nil, noEndDate, "end"),
                                       (maxLearners != nil, noLearnerCap, "max-learners / --no-learner-cap"), (price != nil, noPrice, "price")]
            where set && unset { throw ValidationError("give --\(name) or its --no- form, not both") }
            if active && inactive { throw ValidationError("give --active or --inactive, not both") }
            _ = try ContractsCommand.price(price)
        }

        func run() async throws {
            var changes = ContractChanges(currency: currency?.uppercased(), active: active ? true : inactive ? false : nil, description: description)
            if let start { changes.start = .some(start) } else if noStartDate { changes.start = .some(nil) }
            if let end { changes.end = .some(end) } else if noEndDate { changes.end = .some(nil) }
            if let maxLearners { changes.maxLearners = .some(maxLearners) } else if noLearnerCap { changes.maxLearners = .some(nil) }
            if let price = try ContractsCommand.price(price) { changes.price = .some(price) } else if noPrice { changes.price = .some(nil) }
            let store = try await global.openStore(try global.loadConfig())
            let contract = try await ContractsCommand.failing { try await store.modifyContract(id, changes, actor: operatorName()) }
            if json { return try JSONOutput.print(ContractJSON.json(contract, now: Date())) }
            print("contract \(contract.id) modified; its codes follow (contract.sync queued)")
        }
    }

    struct Courseware: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add courses to a contract: each gets a run cloned in Studio for the contract (or, with --no-create-runs, an existing run).")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Argument(help: "Course numbers (18.01x) or run keys (course-v1:ORG+NUM+RUN).") var courses: [String]
        @Flag(name: .customLong("no-create-runs"), help: "Attach the runs named as they are.") var noCreateRuns = false
        @Flag(help: "Detach the runs named: their unredeemed codes are voided, enrollments stay.") var remove = false
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            if remove {
                let runs = try await ContractsCommand.failing { try await store.removeCourseware(id, courses: courses, actor: operatorName()) }
                return print("removed \(runs.map(\.courseID).joined(separator: ", ")) from contract \(id); their unredeemed codes go with the next sync")
            }
            let contract = try await ContractsCommand.failing { () throws -> Contract in
                guard let found = try await store.contract(id) else { throw ContractError.unknownContract(id) }
                return found
            }
            let requests: [ContractRunRequest]
            switch ContractCourseware.requests(courses, contract: contract, config: config.contracts, attach: noCreateRuns, now: Date()) {
            case .failure(let problem): throw ValidationError(problem.message)
            case .success(let found): requests = found
            }
            let runs = try await ContractsCommand.failing { try await store.addCourseware(id, runs: requests, actor: operatorName()) }
            if json { return try JSONOutput.print(runs.map { JSONValue.object(["course_id": .string($0.courseID), "state": .string($0.state.rawValue)]) }) }
            for run in runs {
                print("\(run.courseID): \(run.state.rawValue)" + (run.sourceID.map { " (clone of \($0) queued)" } ?? ""))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List contracts, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this organization's.") var org: String?
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let contracts = try await ContractsCommand.failing { try await store.contracts(organization: org) }
            let now = Date()
            if json { return try JSONOutput.print(contracts.map { ContractJSON.json($0, now: now) }) }
            guard !contracts.isEmpty else { return print("no contracts") }
            var table = TextTable(["ID", "ORGANIZATION", "NAME", "INTEGRATION", "LEARNERS", "PRICE", "RUNS", "IN FORCE"])
            for contract in contracts {
                let cap = contract.terms.maxLearners.map { "/\($0)" } ?? ""
                table.add([String(contract.id), contract.organization.name, contract.name, contract.terms.integration.rawValue,
                           "\(contract.learners)\(cap)" + (contract.overCap ? " over cap" : ""),
                           contract.terms.price > 0 ? "\(Money.format(contract.terms.price)) \(contract.terms.currency ?? "")" : "free",
                           String(contract.runs.filter(\.attached).count), contract.inForce(at: now) ? "yes" : "no"])
            }
            print(table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One contract: terms, runs and their state, codes, learners against the cap.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            guard let contract = try await store.contract(id) else { throw CLIError("no contract \(id)") }
            let now = Date()
            if json { return try JSONOutput.print(ContractJSON.json(contract, now: now)) }
            let terms = contract.terms
            print("contract \(contract.id)  \(contract.name)  (\(contract.organization.name), key \(contract.organization.key))")
            print("  integration: \(terms.integration.rawValue)   in force: \(contract.inForce(at: now) ? "yes" : "no")\(terms.active ? "" : " (inactive)")")
            print("  dates:       \(terms.start ?? "open") … \(terms.end ?? "open")")
            print("  learners:    \(contract.learners)" + (terms.maxLearners.map { " of \($0)" } ?? " (uncapped)") + (contract.overCap ? "  OVER CAP: nobody was removed" : ""))
            print("  price:       " + (terms.price > 0 ? "\(Money.format(terms.price)) \(terms.currency ?? "")" : "free"))
            for run in contract.runs {
                print("  run \(run.courseID)  \(run.attached ? run.state.rawValue : "removed")  codes: \(run.codes.active) active, \(run.codes.redeemed) redeemed, \(run.codes.void) void"
                      + (run.error.map { "  error: \($0)" } ?? ""))
            }
        }
    }

    struct Codes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The contract's codes as codes-<id>.csv: Code, Product, Redeemed, Product URL.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Option(help: "Write the CSV here (default: codes-<id>.csv in this folder; - for standard output).") var out: String?

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config)
            guard try await store.contract(id) != nil else { throw CLIError("no contract \(id)") }
            let codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(id), limit: 10_000_000))
            let csv = ContractJSON.codesCSV(codes, publicURL: config.server.publicURL)
            let path = out ?? ContractCodesCSV.fileName(contract: id)
            if path == "-" { return print(csv, terminator: "") }
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            print("\(path): \(codes.filter { $0.state != .void }.count) codes")
        }
    }

    struct Learners: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The contract's learners: attached (SSO) or come by its codes.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            guard try await store.contract(id) != nil else { throw CLIError("no contract \(id)") }
            let learners = try await store.learners(of: id)
            if json { return try JSONOutput.print(learners.map(ContractJSON.json)) }
            guard !learners.isEmpty else { return print("no learners") }
            var table = TextTable(["EMAIL", "HOW", "SINCE"])
            for learner in learners { table.add([learner.email, learner.source, Timestamp.format(learner.since)]) }
            print(table.render())
        }
    }

    /// The learners `attach` and `detach` name.
    struct LearnerOptions: ParsableArguments {
        @Argument var id: Int64
        @Option(name: .customLong("email"), help: "A learner's email (repeat).") var emails: [String]

        func validate() throws {
            if emails.isEmpty { throw ValidationError("give at least one --email") }
            for email in emails { if let problem = EmailAddressRule.problem(email) { throw ValidationError("--email \(email): \(problem)") } }
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach learners (SSO): enrolled in every run of the contract, and in runs added later.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var learners: LearnerOptions

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let id = learners.id
            let jobs = try await ContractsCommand.failing {
                try await store.attach(id, emails: learners.emails.map(normalizedEmail), actor: operatorName())
            }
            print("attached \(learners.emails.count) to contract \(id); enroll jobs: \(jobs.isEmpty ? "none yet (no run is ready)" : jobs.map { String($0.id) }.joined(separator: ", "))")
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Detach attached learners: unenrolled from the contract's runs.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var learners: LearnerOptions

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let id = learners.id
            let jobs = try await ContractsCommand.failing {
                try await store.detach(id, emails: learners.emails.map(normalizedEmail), actor: operatorName())
            }
            print("detached from contract \(id); unenroll jobs: \(jobs.isEmpty ? "none" : jobs.map { String($0.id) }.joined(separator: ", "))")
        }
    }
}
