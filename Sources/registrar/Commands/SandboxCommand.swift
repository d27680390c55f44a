import ArgumentParser
import Foundation
import Logging
import Sandbox

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the bundled Open edX (and WooCommerce REST) stand-in, for trying Registrar without an LMS.",
        discussion: """
            Serves the LMS, Studio and store APIs Registrar calls, backed by memory, with the status codes of the \
            real services. GET /__sandbox/ledger lists every enrollment change applied. Point Registrar at it with \
            openedx.lms_url and studio_url = http://HOST:PORT and client_secret = the --client-secret below.
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 18000
    @Option(help: "Seed JSON file with users, courses, enrollments and WooCommerce orders (default: the demo seed).")
    var seed: String?
    @Flag(help: "Start with no users or courses instead of the demo seed.") var empty = false
    @Option(help: "OAuth client id accepted.") var clientID = "registrar-worker"
    @Option(help: "OAuth client secret accepted.") var clientSecret = "sandbox-secret"
    @Option(help: "Lifetime of issued tokens, in seconds.") var tokenTTL = 3600
    @Option(help: "Fraction of API calls that fail (5xx, connection resets, slow answers).") var failRate = 0.0
    @Option(help: "Latency added to every API answer, in milliseconds.") var latencyMs = 0
    @Option(help: "Staff throttle: API calls per minute per client before 429 + Retry-After.") var throttlePerMinute: Int?
    @Option(help: "Seed for the fault injection's random choices, for reproducible runs.") var randomSeed: UInt64?
    @Option(help: "Paging of GET /api/enrollment/v1/enrollments: cursor (older Open edX releases) or page_number (the newest).")
    var enrollmentsPagination: SandboxPagination = .cursor
    @Option(help: "Run an SMTP sink on this port too (0 picks a free one); mail it accepts is at /__sandbox/mail.")
    var smtpPort: Int?

    func validate() throws {
        guard (0...1).contains(failRate) else { throw ValidationError("--fail-rate must be between 0 and 1") }
        guard latencyMs >= 0, tokenTTL > 0 else { throw ValidationError("--latency-ms must be ≥ 0 and --token-ttl > 0") }
        if seed != nil && empty { throw ValidationError("--seed and --empty exclude each other") }
    }

    func run() async throws {
        var configuration = SandboxConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.clientID = clientID
        configuration.clientSecret = clientSecret
        configuration.tokenTTL = .seconds(tokenTTL)
        configuration.failRate = failRate
        configuration.latency = .milliseconds(latencyMs)
        configuration.throttlePerMinute = throttlePerMinute
        configuration.randomSeed = randomSeed
        configuration.enrollmentsPagination = enrollmentsPagination
        configuration.smtpPort = smtpPort
        if let seed {
            do { configuration.seed = try SandboxSeed.load(path: seed) } catch { throw CLIError("\(seed): \(error)") }
        } else if !empty {
            configuration.seed = .demo
        }
        var logger = Logger(label: "registrar.sandbox") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .notice
        configuration.logger = logger
        let client = configuration.clientID
        try await runSandbox(configuration) { url in
            // Written in one go to stdout so scripts can wait for this line.
            FileHandle.standardOutput.write(Data("sandbox listening on \(url) (client \(client), ledger at \(url)/__sandbox/ledger)\n".utf8))
        }
    }
}

extension SandboxPagination: ExpressibleByArgument {}
