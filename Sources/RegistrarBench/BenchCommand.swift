import ArgumentParser
import Foundation

@main
struct RegistrarBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registrar-bench",
        abstract: "Measure Registrar: intake throughput and latency, job drain, queue scaling, memory.",
        discussion: """
            Build in release mode first (`swift build -c release`): the intake and rss scenarios run the \
            `registrar` binary found next to this one. Each scenario prints its figures and targets (PASS/MISS) \
            and writes them as JSON (default bench-results/<scenario>.json). Everything listens on 127.0.0.1 \
            and every load loop stops by itself. See BENCHMARKS.md.
            """,
        subcommands: [IntakeCommand.self, RejectedCommand.self, DrainCommand.self, CatchUpCommand.self, RedeemCommand.self, ContractsBenchCommand.self, AuditBenchCommand.self, ConsoleBenchCommand.self, QueueBenchCommand.self, CompareCommand.self, ScaleCommand.self, RSSCommand.self, StagesCommand.self]
    )
}

/// Options every scenario takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("json-out"), help: "JSON results file (default: bench-results/<scenario>.json).")
    var jsonOut: String?
    @Option(help: "Folder for the temporary databases and logs (default: the system temporary folder).")
    var workDir: String?
    @Flag(help: "Keep the databases and logs after the run.")
    var keep = false

    func jsonPath(_ scenario: String) -> String { jsonOut ?? "bench-results/\(scenario).json" }
}

/// Where the order fixture the benchmark's webhooks are made from is found.
struct WebhookFixtures: ParsableArguments {
    @Option(name: .customLong("fixtures"),
            help: "The repository's fixtures folder (default: found above the working directory).")
    var folder: String?

    func webhooks() throws -> WooOrderWebhooks {
        try WooOrderWebhooks(fixturesDirectory: try locateFixtures(folder))
    }
}

/// The options of the scenarios that post webhooks at `registrar serve`.
struct IntakeLoadOptions: ParsableArguments {
    @Option(help: "Concurrent keep-alive connections (and requests in flight).")
    var connections = 64
    @Option(help: "The load generator's HTTP client: nio (one event-loop thread, light on the shared CPU) or curl (the project's CurlHTTPClient).")
    var client: LoadClientKind = .nio
    @Option(help: "Measured duration in seconds (default 10 unless --requests is given).")
    var seconds: Double?
    @Option(help: "Measured request count (stops at whichever of --seconds and --requests comes first).")
    var requests: Int?
    @Option(help: "Warm-up before measuring, in seconds (not counted).")
    var warmupSeconds = 1.0
    @Option(help: "The registrar binary (default: the one next to registrar-bench).")
    var registrar: String?
    @OptionGroup var fixtures: WebhookFixtures
    @Option(help: "serve's logging.level during the run (production default: info).")
    var logLevel = "info"

    func validate() throws {
        guard (1...1024).contains(connections) else { throw ValidationError("--connections must be 1…1024") }
        if let seconds, !(0.1...600).contains(seconds) { throw ValidationError("--seconds must be 0.1…600") }
        if let requests, !(1...10_000_000).contains(requests) { throw ValidationError("--requests must be 1…10,000,000") }
        guard (0...60).contains(warmupSeconds) else { throw ValidationError("--warmup-seconds must be 0…60") }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else { throw ValidationError("--log-level must be one of \(levels.joined(separator: ", "))") }
    }

    func settings(firstOrderID: Int = 1_000_000) -> IntakeLoadSettings {
        IntakeLoadSettings(url: "", connections: connections, client: client,
                           duration: seconds.map { .milliseconds(Int64($0 * 1000)) } ?? (requests == nil ? .seconds(10) : nil),
                           requests: requests, warmup: .milliseconds(Int64(warmupSeconds * 1000)),
                           firstOrderID: firstOrderID)
    }

    var measuredDescription: String {
        switch (seconds, requests) {
        case let (s?, r?): "\(s) s or \(Format.grouped(r)) requests, whichever first"
        case let (nil, r?): "\(Format.grouped(r)) requests (at most 300 s)"
        case let (s?, nil): "\(s) s"
        case (nil, nil): "10 s"
        }
    }
}

extension IntakeVariant: ExpressibleByArgument {}
extension LoadClientKind: ExpressibleByArgument {}

/// Wall time of a whole scenario, for the report.
func elapsedSeconds(since start: ContinuousClock.Instant) -> Double {
    (ContinuousClock.now - start).inMilliseconds / 1000
}
