import Foundation
import Hummingbird
import RegistrarCore
import RegistrarStore

/// The operator's API (role `ops`): the same views and actions as `registrar jobs` and `deliveries`, with
/// every replay and cancel audited under the token's name.
struct AdminAPI: Sendable {
    let store: any JobOperations & DeliveryLog
    let clock: any WallClock

    func register(_ api: RouterGroup<RegistrarRequestContext>) {
        let ops = api.group().add(middleware: RequireRole(.ops))
        // A viewer reads what ops read and changes nothing.
        let reading = api.group().add(middleware: RequireRole(.ops, .viewer))
        let store = self.store
        let clock = self.clock
        reading.get("jobs") { request, _ -> Response in
            try await withDatabase {
                let query = request.uri.queryParameters
                // A page at most a thousand long: a negative or huge limit is not a way to read the whole table.
                var filter = JobFilter(limit: min(1000, max(1, query["limit"].flatMap { Int(String($0)) } ?? 50)))
                if let state = query["state"].map(String.init) {
                    guard let parsed = JobState(rawValue: state) else {
                        return JSONResponse.error(.badRequest, code: "bad_filter", message: "state \(state) is not a job state")
                    }
                    filter.state = parsed
                }
                filter.kind = query["kind"].map { JobKind(rawValue: String($0)) }
                filter.text = query["source"].map(String.init)
                if let since = query["since"].map(String.init) {
                    guard let date = Timestamp.parse(since, now: clock.now()) else {
                        return JSONResponse.error(.badRequest, code: "bad_filter", message: "since \(since) is not a time")
                    }
                    filter.since = date
                }
                return JSONResponse.make(.ok, try await store.jobs(filter).map { JobJSON($0) })
            }
        }
        reading.get("jobs/:id") { _, context -> Response in
            try await withDatabase {
                guard let id = context.parameters.get("id").flatMap(Int64.init),
                      let detail = try await store.jobDetail(id: id) else {
                    return JSONResponse.error(.notFound, code: "unknown_job", message: "no such job")
                }
                return JSONResponse.make(.ok, JobJSON(detail.job, attempts: detail.attempts, actions: detail.actions))
            }
        }
        ops.post("jobs/:id/replay") { request, context -> Response in
            try await withDatabase {
                guard let id = context.parameters.get("id").flatMap(Int64.init) else {
                    return JSONResponse.error(.notFound, code: "unknown_job", message: "no such job")
                }
                let dryRun = request.uri.queryParameters["dry_run"].map { $0 == "true" || $0 == "1" } ?? false
                return Self.report(try await store.replay(ids: [id], actor: Self.actor(context), dryRun: dryRun))
            }
        }
        ops.post("jobs/:id/cancel") { _, context -> Response in
            try await withDatabase {
                guard let id = context.parameters.get("id").flatMap(Int64.init) else {
                    return JSONResponse.error(.notFound, code: "unknown_job", message: "no such job")
                }
                return Self.report(try await store.cancel(ids: [id], actor: Self.actor(context)))
            }
        }
        // Bulk: every failed job matching kind/since, like `jobs replay --failed`.
        ops.post("jobs/replay") { request, context -> Response in
            try await withDatabase {
                let query = request.uri.queryParameters
                guard query["state"].map({ $0 == "failed" }) ?? true else {
                    return JSONResponse.error(.badRequest, code: "bad_filter", message: "bulk replay takes failed jobs only (state=failed)")
                }
                var since: Date?
                if let text = query["since"].map(String.init) {
                    guard let date = Timestamp.parse(text, now: clock.now()) else {
                        return JSONResponse.error(.badRequest, code: "bad_filter", message: "since \(text) is not a time")
                    }
                    since = date
                }
                let dryRun = query["dry_run"].map { $0 == "true" || $0 == "1" } ?? false
                return Self.report(try await store.replayFailed(kind: query["kind"].map { JobKind(rawValue: String($0)) },
                                                                since: since, actor: Self.actor(context), dryRun: dryRun))
            }
        }
        reading.get("deliveries/:id") { _, context -> Response in
            try await withDatabase {
                guard let id = context.parameters.get("id").flatMap(Int64.init),
                      let delivery = try await store.delivery(id: id) else {
                    return JSONResponse.error(.notFound, code: "unknown_delivery", message: "no such delivery")
                }
                return JSONResponse.make(.ok, DeliveryJSON(delivery, full: true))
            }
        }
    }

    /// Who the audit trail names: the token, as the middleware put it in the context.
    private static func actor(_ context: RegistrarRequestContext) -> String {
        "api:" + (context.identity?.name ?? "unknown")
    }

    /// 200 when everything asked was done; 409 when something was refused (with the reasons).
    private static func report(_ report: OperationReport) -> Response {
        JSONResponse.make(report.refused.isEmpty ? .ok : .conflict, OperationReportJSON(report))
    }
}

/// The JSON shape of a delivery for `--json` and the admin API.
public struct DeliveryJSON: Encodable, Sendable {
    var id: Int64
    var source: String
    var channel: String?
    var received_at: Date
    var verdict: String
    var http_status: Int
    var reason: String?
    var job_ids: [Int64]
    var headers: [String: String]?
    var body: String?
    /// Bytes received, and whether `body` is only their first part (a rejected delivery keeps 4 KiB).
    var body_size: Int
    var body_truncated: Bool
    var body_sha256: String?

    public init(_ delivery: Delivery, full: Bool) {
        id = delivery.id
        source = delivery.source
        channel = delivery.channel
        received_at = delivery.receivedAt
        verdict = delivery.verdict
        http_status = delivery.httpStatus
        reason = delivery.reason
        job_ids = delivery.jobIDs
        body_size = delivery.bodySize
        body_truncated = delivery.bodyIsPartial
        body_sha256 = delivery.bodySHA256
        if full {
            headers = delivery.headers
            body = delivery.bodyText
        }
    }
}
