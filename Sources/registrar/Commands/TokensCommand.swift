import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarStore

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Bearer tokens for the HTTP API. Only a hash is stored: a token is shown once, when created.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it (once).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name for the token (who or what uses it).") var name: String
        @Option(help: "Its role: \(APIRole.allCases.map(\.rawValue).joined(separator: ", ")).") var role: APIRole
        @Option(help: "Limit it to courses whose id starts with this (repeat for several), e.g. course-v1:MITx+.")
        var scope: [String] = []
        @Flag(help: "A storefront that may sell at other prices than the listed ones (else a differing unit_price is refused).")
        var maySetPrices = false
        @Flag(help: "Print a JSON document.") var json = false

        func validate() throws {
            for prefix in scope { if let problem = CourseScope.problem(prefix) { throw ValidationError(problem) } }
            if maySetPrices, role != .storefront {
                throw ValidationError("--may-set-prices is for storefront tokens: only a storefront sets order prices, not \(role.rawValue)")
            }
        }

        struct CreatedJSON: Encodable { var name: String; var role: String; var token: String; var may_set_prices: Bool }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let token: String
            do {
                token = try await store.createToken(name: name, role: role, scope: scope.isEmpty ? nil : scope, maySetPrices: maySetPrices)
            } catch let error as TokenError {
                throw CLIError(error.description)
            }
            if json {
                try JSONOutput.print(CreatedJSON(name: name, role: role.rawValue, token: token, may_set_prices: maySetPrices))
            } else {
                print(token)
                let limited = scope.isEmpty ? "" : ", limited to \(scope.joined(separator: ", "))"
                let prices = maySetPrices ? ", may set prices" : ""
                FileHandle.standardError.write(Data("token \(name) (\(role.rawValue)\(limited)\(prices)) created; it is not shown again\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their values).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON array.") var json = false

        struct TokenJSON: Encodable {
            var name: String; var role: String; var scope: [String]?; var may_set_prices: Bool; var created_at: Date; var revoked_at: Date?
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let tokens = try await store.tokens()
            if json {
                return try JSONOutput.print(tokens.map {
                    TokenJSON(name: $0.name, role: $0.role.rawValue, scope: $0.scope, may_set_prices: $0.maySetPrices,
                              created_at: $0.createdAt, revoked_at: $0.revokedAt)
                })
            }
            var table = TextTable(["NAME", "ROLE", "SCOPE", "SETS PRICES", "CREATED", "REVOKED"])
            for token in tokens {
                table.add([token.name, token.role.rawValue, token.scope?.joined(separator: " ") ?? "all courses",
                           token.maySetPrices ? "yes" : "-",
                           Timestamp.format(token.createdAt), token.revokedAt.map(Timestamp.format) ?? "-"])
            }
            print(tokens.isEmpty ? "no tokens" : table.render())
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token at once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's name.") var name: String

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            do { try await store.revokeToken(name: name) } catch let error as TokenError { throw CLIError(error.description) }
            print("token \(name) revoked")
        }
    }
}

extension APIRole: ExpressibleByArgument {}
