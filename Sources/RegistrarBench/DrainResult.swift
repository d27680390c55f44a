import Foundation
import Sandbox

struct DrainJob: Sendable {
    var key: String
    var state: String
    var attempts: Int
    var created: Date
    var finished: Date?
    var lastStarted: Date?
}

struct DrainResult: Encodable {
    var jobs: Int
    var succeeded: Int
    var retried: Int
    var ledgerEntries: Int
    var finished: Bool
    /// From the workers' start to the last job's finish.
    var seconds: Double
    var jobsPerSecond: Double
    /// created_at → the sandbox ledger entry: queueing included (the whole backlog is created at once).
    var endToEnd: LatencyStats
    /// The successful attempt's start → the ledger entry: one job's own path through claim, handler and call.
    var attempt: LatencyStats
    var apiCalls: Int
    var callsPerJob: Double
    var throttled: Int
    var tokensIssued: Int
    var requestsByEndpoint: [String: Int]
    /// Enroll calls accepted per minute between the first and the last ledger entry.
    var callsPerMinute: Double?
    /// Completion polls whose read saw fewer jobs than had been committed (should always be 0).
    var staleReads = 0
    /// One worker's claim → its next claim: the whole per-job cycle.
    var workerCycle: LatencyStats?
    /// finish() called → the same worker's next claim() called: the finish commit and the loop around it.
    var finishToNextClaim: LatencyStats?

    /// Splits each worker's cycle, so an overhead beyond the API latency shows where it is spent.
    mutating func addWorkerGaps(_ timeline: [(worker: String, started: Date, finished: Date?)]) {
        var cycles: [Double] = [], gaps: [Double] = []
        for index in timeline.indices.dropFirst() {
            let previous = timeline[index - 1], current = timeline[index]
            guard previous.worker == current.worker else { continue }
            cycles.append(current.started.timeIntervalSince(previous.started) * 1000)
            if let finished = previous.finished { gaps.append(current.started.timeIntervalSince(finished) * 1000) }
        }
        workerCycle = LatencyStats(milliseconds: cycles)
        finishToNextClaim = LatencyStats(milliseconds: gaps)
    }

    static func compute(jobs: [DrainJob], ledger: [LedgerEntry], stats: SandboxStats, started: Date, count: Int,
                        finished: Bool) -> DrainResult {
        var ledgerAt: [String: Date] = [:]
        for entry in ledger { if let order = entry.order { ledgerAt[order] = entry.at } }
        var endToEnd: [Double] = []
        var attempt: [Double] = []
        for job in jobs {
            let order = "bench-" + (job.key.split(separator: ":").last.map(String.init) ?? "")
            guard let at = ledgerAt[order] else { continue }
            endToEnd.append(at.timeIntervalSince(job.created) * 1000)
            if let start = job.lastStarted { attempt.append(max(0, at.timeIntervalSince(start) * 1000)) }
        }
        let lastFinish = jobs.compactMap(\.finished).max() ?? Date()
        let seconds = max(0.001, lastFinish.timeIntervalSince(started))
        let succeeded = jobs.filter { $0.state == "succeeded" }.count
        let apiCalls = stats.requests.filter { !$0.key.contains("access_token") && !$0.key.contains("__sandbox") }
            .values.reduce(0, +) - stats.throttled
        var perMinute: Double?
        let times = ledger.map(\.at).sorted()
        if let first = times.first, let last = times.last, times.count > 1, last > first {
            perMinute = Double(times.count - 1) / last.timeIntervalSince(first) * 60
        }
        return DrainResult(jobs: count, succeeded: succeeded, retried: jobs.filter { $0.attempts > 1 }.count,
                           ledgerEntries: ledger.count, finished: finished, seconds: seconds,
                           jobsPerSecond: Double(succeeded) / seconds, endToEnd: LatencyStats(milliseconds: endToEnd),
                           attempt: LatencyStats(milliseconds: attempt), apiCalls: apiCalls,
                           callsPerJob: Double(apiCalls) / Double(max(1, count)), throttled: stats.throttled,
                           tokensIssued: stats.tokensIssued, requestsByEndpoint: stats.requests, callsPerMinute: perMinute)
    }

    /// What the workers could do if claims and commits were free: each worker always waiting on one call.
    func ideal(concurrency: Int, latencyMs: Int) -> Double {
        Double(concurrency) / (max(1, callsPerJob) * Double(latencyMs) / 1000)
    }

    func rows(concurrency: Int, latencyMs: Int) -> [[String]] {
        var rows: [[String]] = [
            ["jobs succeeded", "\(Format.grouped(succeeded)) of \(Format.grouped(jobs)) (\(retried) needed a retry)"],
            ["wall time (workers start → last finish)", String(format: "%.2f s", seconds)],
            ["jobs/s", Format.rate(jobsPerSecond)],
            ["end-to-end created_at → ledger p50 / p99 / max", "\(Format.ms(endToEnd.p50)) / \(Format.ms(endToEnd.p99)) / \(Format.ms(endToEnd.max)) ms"],
            ["attempt start → ledger p50 / p99 / max", "\(Format.ms(attempt.p50)) / \(Format.ms(attempt.p99)) / \(Format.ms(attempt.max)) ms"],
            ["one worker: claim → next claim p50 / p99", workerCycle.map { "\(Format.ms($0.p50)) / \(Format.ms($0.p99)) ms" } ?? "?"],
            ["one worker: finish → next claim p50 / p99", finishToNextClaim.map { "\(Format.ms($0.p50)) / \(Format.ms($0.p99)) ms" } ?? "?"],
            ["Open edX API calls (accepted) / per job", "\(Format.grouped(apiCalls)) / " + String(format: "%.2f", callsPerJob)],
            ["429s from the sandbox", "\(throttled)"],
            ["tokens issued", "\(tokensIssued)"],
        ]
        if let callsPerMinute { rows.append(["enroll calls/min (first → last ledger entry)", String(format: "%.1f", callsPerMinute)]) }
        if latencyMs > 0 {
            rows.append(["ideal: concurrency / (calls per job × latency)", Format.rate(ideal(concurrency: concurrency, latencyMs: latencyMs)) + " jobs/s"])
        }
        return rows
    }
}
