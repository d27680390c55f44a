import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect, replay and cancel jobs (safe while serve runs on the same database).",
        subcommands: [List.self, Show.self, Replay.self, Cancel.self, Stats.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only jobs in this state (\(JobState.allCases.map(\.rawValue).joined(separator: ", "))).")
        var state: JobState?
        @Option(help: "Only jobs of this kind (enroll, unenroll, woocommerce.refund, rerun).")
        var kind: String?
        @Option(help: "Only jobs whose source, dedupe key or serial key contains this text (an email, an order).")
        var source: String?
        @Option(help: "At most this many jobs.")
        var limit = 50
        @Flag(help: "Print a JSON array.")
        var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let jobs = try await store.jobs(JobFilter(state: state, kind: kind.map(JobKind.init(rawValue:)), text: source,
                                                      limit: limit))
            if json { return try JSONOutput.print(jobs.map { JobJSON($0) }) }
            var table = TextTable(["ID", "KIND", "STATE", "TRIES", "UPDATED", "SERIAL KEY", "LAST ERROR"])
            for job in jobs {
                table.add(["\(job.id)", job.kind.rawValue, job.state.rawValue, "\(job.attempts)/\(job.maxAttempts)",
                           Timestamp.format(job.updatedAt), job.serialKey ?? "-", truncate(job.lastError, 60)])
            }
            print(jobs.isEmpty ? "no jobs match" : table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job: payload, every attempt, operator actions.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job id.") var id: Int64
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            guard let detail = try await store.jobDetail(id: id) else { throw CLIError("no job \(id)") }
            if json { return try JSONOutput.print(JobJSON(detail.job, attempts: detail.attempts, actions: detail.actions)) }
            let job = detail.job
            var lines = [
                "job \(job.id)  \(job.kind)  \(job.state)",
                "  dedupe key:  \(job.dedupeKey)",
                "  serial key:  \(job.serialKey ?? "-")",
                "  source:      \(job.source)\(job.deliveryID.map { " (delivery \($0))" } ?? "")",
                "  attempts:    \(job.attempts) of \(job.maxAttempts)",
                "  created:     \(Timestamp.format(job.createdAt))",
                "  updated:     \(Timestamp.format(job.updatedAt))",
            ]
            if job.state == .queued { lines.append("  due:         \(Timestamp.format(job.runAt))") }
            if let owner = job.leaseOwner, let until = job.leaseExpiresAt {
                lines.append("  lease:       \(owner) until \(Timestamp.format(until))")
            }
            if let finished = job.finishedAt { lines.append("  finished:    \(Timestamp.format(finished))") }
            if let error = job.lastError { lines.append("  last error:  \(error)\(job.lastHTTPStatus.map { " (HTTP \($0))" } ?? "")") }
            if let result = job.result { lines.append("  result:      \(result)") }
            lines.append("  payload:     \(job.payload)")
            print(lines.joined(separator: "\n"))
            if !detail.attempts.isEmpty {
                var table = TextTable(["#", "STARTED", "MS", "OUTCOME", "HTTP", "ERROR"])
                for attempt in detail.attempts {
                    table.add(["\(attempt.attempt)", Timestamp.format(attempt.startedAt),
                               attempt.durationMilliseconds.map(String.init) ?? "-", attempt.outcome,
                               attempt.httpStatus.map(String.init) ?? "-", attempt.error ?? ""])
                }
                print("\nattempts:\n" + table.render())
            }
            if !detail.actions.isEmpty {
                print("\noperator actions:")
                for action in detail.actions {
                    print("  \(Timestamp.format(action.at))  \(action.actor)  \(action.action)  \(action.detail ?? "")")
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run jobs again: attempts reset, due now.",
            discussion: """
                An enroll whose learner and course have a later succeeded unenroll is marked superseded instead of \
                running. Running, succeeded and superseded jobs are refused. Exits 1 when anything was refused.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Job ids to replay.") var ids: [Int64] = []
        @Flag(help: "Replay every failed job (narrow with --kind and --since).") var failed = false
        @Option(help: "With --failed: only this kind.") var kind: String?
        @Option(help: "With --failed: only jobs that failed since this time (ISO 8601, a date, or an age such as 2h, 3d).")
        var since: String?
        @Flag(help: "Show what would be replayed and change nothing.") var dryRun = false
        @Flag(help: "Print a JSON document.") var json = false

        func validate() throws {
            if failed == !ids.isEmpty { throw ValidationError("give job ids or --failed, not both and not neither") }
            if !failed && (kind != nil || since != nil) { throw ValidationError("--kind and --since go with --failed") }
            if let since, Timestamp.parse(since) == nil {
                throw ValidationError("--since \"\(since)\" is not a time: use 2026-11-21T08:00:00Z, 2026-11-21, or an age like 2h")
            }
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let report: OperationReport
            if failed {
                report = try await store.replayFailed(kind: kind.map(JobKind.init(rawValue:)), since: since.flatMap { Timestamp.parse($0) },
                                                      actor: operatorName(), dryRun: dryRun)
            } else {
                report = try await store.replay(ids: ids, actor: operatorName(), dryRun: dryRun)
            }
            try printReport(report, verb: dryRun ? "would replay" : "replayed", json: json)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel queued or failed jobs so they never run. Exits 1 when anything was refused."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Job ids to cancel.") var ids: [Int64]
        @Flag(help: "Print a JSON document.") var json = false

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let report = try await store.cancel(ids: ids, actor: operatorName())
            try printReport(report, verb: "cancelled", json: json)
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts by state and kind, and how old the oldest waiting job is.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON document.") var json = false

        struct StatsJSON: Encodable {
            struct Count: Encodable { var kind: String; var state: String; var count: Int }
            var counts: [Count]
            var by_state: [String: Int]
            var oldest_queued_age_seconds: Double?
            var oldest_due_age_seconds: Double?
        }

        func run() async throws {
            let store = try await global.openStore(try global.loadConfig())
            let stats = try await store.stats()
            if json {
                var byState: [String: Int] = [:]
                for state in JobState.allCases { byState[state.rawValue] = stats.total(state: state) }
                return try JSONOutput.print(StatsJSON(
                    counts: stats.counts.map { .init(kind: $0.kind.rawValue, state: $0.state.rawValue, count: $0.count) },
                    by_state: byState, oldest_queued_age_seconds: stats.oldestQueuedAge?.seconds,
                    oldest_due_age_seconds: stats.oldestDueAge?.seconds))
            }
            let kinds = Array(Set(stats.counts.map(\.kind.rawValue))).sorted()
            var table = TextTable(["KIND"] + JobState.allCases.map { $0.rawValue.uppercased() })
            for kind in kinds {
                table.add([kind] + JobState.allCases.map { state in
                    "\(stats.counts.first { $0.kind.rawValue == kind && $0.state == state }?.count ?? 0)"
                })
            }
            table.add(["total"] + JobState.allCases.map { "\(stats.total(state: $0))" })
            print(table.render())
            print("oldest queued: \(stats.oldestQueuedAge.map(formatAge) ?? "none")    oldest due and waiting: \(stats.oldestDueAge.map(formatAge) ?? "none")")
        }
    }
}

extension JobState: ExpressibleByArgument {}

private func printReport(_ report: OperationReport, verb: String, json: Bool) throws {
    if json {
        try JSONOutput.print(OperationReportJSON(report))
    } else {
        if !report.applied.isEmpty { print("\(verb): " + report.applied.map(String.init).joined(separator: ", ")) }
        for item in report.superseded {
            print("\(report.dryRun ? "would mark" : "marked") job \(item.jobID) superseded: job \(item.byJobID) (a later unenroll of the same learner and course) already succeeded")
        }
        if report.applied.isEmpty && report.superseded.isEmpty && report.refused.isEmpty { print("nothing to do") }
        for refusal in report.refused {
            FileHandle.standardError.write(Data("refused: \(refusal.reason)\n".utf8))
        }
    }
    if !report.refused.isEmpty { throw ExitCode.failure }
}
