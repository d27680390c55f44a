import Foundation
import GRDB
import RegistrarCore

public struct JobFilter: Sendable {
    public var state: JobState?
    public var kind: JobKind?
    /// Matches the job's source, or its dedupe or serial key (a learner's email, an order number).
    public var text: String?
    public var since: Date?
    public var limit: Int

    public init(state: JobState? = nil, kind: JobKind? = nil, text: String? = nil, since: Date? = nil, limit: Int = 50) {
        self.state = state
        self.kind = kind
        self.text = text
        self.since = since
        self.limit = limit
    }

    func sql(selecting columns: String) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let state { conditions.append("state = ?"); arguments += [state.rawValue] }
        if let kind { conditions.append("kind = ?"); arguments += [kind.rawValue] }
        if let since { conditions.append("updated_at >= ?"); arguments += [since] }
        if let text {
            conditions.append("(instr(source, ?) > 0 OR instr(dedupe_key, ?) > 0 OR instr(IFNULL(serial_key, ''), ?) > 0)")
            arguments += [text, text, text]
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments += [limit]
        return ("SELECT \(columns) FROM jobs\(whereClause) ORDER BY id DESC LIMIT ?", arguments)
    }
}

public struct JobDetail: Sendable {
    public var job: Job
    public var attempts: [JobAttempt]
    public var actions: [OperatorAction]
}

public struct OperatorAction: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var jobID: Int64?
    public var detail: String?

    public init(row: Row) {
        id = row["id"]
        at = row["at"]
        actor = row["actor"]
        action = row["action"]
        jobID = row["job_id"]
        detail = row["detail"]
    }
}

public struct QueueStats: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var kind: JobKind
        public var state: JobState
        public var count: Int
    }
    public var counts: [Count]
    /// Age of the oldest job waiting in `queued`, nil when none waits.
    public var oldestQueuedAge: Duration?
    /// Age of the oldest job that is due now and not running: how far behind the workers are.
    public var oldestDueAge: Duration?

    public func total(state: JobState) -> Int { counts.filter { $0.state == state }.reduce(0) { $0 + $1.count } }
}

extension RegistrarStore {
    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        try await read { db in
            let (sql, arguments) = filter.sql(selecting: "*")
            return try Job.fetchAll(db, sql: sql, arguments: arguments)
        }
    }

    public func job(id: Int64) async throws -> Job? {
        try await read { db in try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) }
    }

    public func jobDetail(id: Int64) async throws -> JobDetail? {
        try await read { db in
            guard let job = try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else { return nil }
            let attempts = try JobAttempt.fetchAll(db, sql: "SELECT * FROM job_attempts WHERE job_id = ? ORDER BY id",
                                                   arguments: [id])
            let actions = try OperatorAction.fetchAll(db, sql: "SELECT * FROM operator_actions WHERE job_id = ? ORDER BY id",
                                                      arguments: [id])
            return JobDetail(job: job, attempts: attempts, actions: actions)
        }
    }

    public func stats() async throws -> QueueStats {
        let now = clock.now()
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state")
            let counts = rows.compactMap { row -> QueueStats.Count? in
                guard let state = JobState(rawValue: row["state"]) else { return nil }
                return QueueStats.Count(kind: JobKind(rawValue: row["kind"]), state: state, count: row["n"])
            }
            let oldestQueued = try Date.fetchOne(db, sql: "SELECT MIN(created_at) FROM jobs WHERE state = 'queued'")
            let oldestDue = try Date.fetchOne(db, sql: "SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= ?",
                                              arguments: [now])
            func age(_ date: Date?) -> Duration? {
                date.map { .milliseconds(Int64(max(0, now.timeIntervalSince($0)) * 1000)) }
            }
            return QueueStats(counts: counts, oldestQueuedAge: age(oldestQueued), oldestDueAge: age(oldestDue))
        }
    }

    public func attempts(ofJob id: Int64) async throws -> [JobAttempt] {
        try await read { db in
            try JobAttempt.fetchAll(db, sql: "SELECT * FROM job_attempts WHERE job_id = ? ORDER BY id", arguments: [id])
        }
    }
}
