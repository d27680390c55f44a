import Foundation
import Hummingbird
import RegistrarCore
import RegistrarStore

/// The operators' pages: overview, failures inbox, job search, job detail with replay and cancel, bulk
/// replay or cancel of a filter (the list first, then a confirmation), and the audit trail.
struct ConsoleJobPages: Sendable {
    let console: WebConsole
    var store: any RegistrarStorage { console.store }

    /// Most jobs a bulk operation takes at once: the preview lists each, and the confirmation names them.
    static let bulkLimit = 1000
    static let pageSize = 50

    func register(_ router: Router<RegistrarRequestContext>, formLimit: Int) {
        router.get("/console") { request, _ in await console.view(request, .overview) { try await overview($0) } }
        router.get("/console/overview") { _, _ in ConsoleHTML.redirect("/console") }
        router.get("/console/failures") { request, _ in await console.view(request, .failures) { try await failures($0) } }
        router.get("/console/jobs") { request, _ in
            await console.view(request, .jobs) { try await search($0, request.uri.queryParameters) }
        }
        router.get("/console/jobs/:id") { request, context in
            await console.view(request, .jobs) { session in
                guard let id = context.parameters.get("id").flatMap(Int64.init), let detail = try await store.jobDetail(id: id) else {
                    return ConsoleHTML.response(.notFound, ConsoleHTML.page("No such job", session: session, current: .jobs, body: ""))
                }
                return try await jobPage(session, detail, notice: request.uri.queryParameters["notice"].map(String.init))
            }
        }
        for action in ["replay", "cancel"] {
            router.post("/console/jobs/:id/\(action)") { request, context in
                await console.act(request, .jobs, limit: formLimit) { session, _ in
                    guard let id = context.parameters.get("id").flatMap(Int64.init) else { return ConsoleHTML.redirect("/console/jobs") }
                    let report = action == "replay" ? try await store.replay(ids: [id], actor: session.actor)
                        : try await store.cancel(ids: [id], actor: session.actor)
                    let notice = report.refused.first.map { "Refused: \($0.reason)" }
                        ?? report.superseded.first.map { "Not replayed: superseded by job \($0.byJobID), a later unenroll" }
                        ?? (action == "replay" ? "Replayed: due now." : "Cancelled.")
                    return ConsoleHTML.redirect("/console/jobs/\(id)?notice=" + Self.query(notice))
                }
            }
        }
        router.get("/console/bulk") { request, _ in
            await console.view(request, .bulk) { try await bulkPreview($0, request.uri.queryParameters) }
        }
        router.post("/console/bulk") { request, _ in
            await console.act(request, .jobs, limit: formLimit) { session, fields in try await bulkApply(session, fields) }
        }
        router.get("/console/audit") { request, _ in
            await console.view(request, .audit) { session in
                let before = request.uri.queryParameters["before"].flatMap { Int64(String($0)) }
                let actions = try await store.auditTrail(before: before, limit: Self.pageSize)
                let rows = actions.map { action in
                    [ConsoleHTML.time(action.at), ConsoleHTML.text(action.actor), ConsoleHTML.text(action.action),
                     action.jobID.map { ConsoleHTML.link("/console/jobs/\($0)", "job \($0)") } ?? "-", ConsoleHTML.text(action.detail)]
                }
                let pager = actions.count == Self.pageSize ? "<p class=\"pager\"><a href=\"/console/audit?before=\(actions.last!.id)\">Older →</a></p>" : ""
                return ConsoleHTML.response(.ok, ConsoleHTML.page("Audit trail", session: session, current: .audit,
                                                                  body: ConsoleHTML.table(["At", "Who", "Action", "Job", "Detail"], rows) + pager))
            }
        }
    }

    // MARK: Overview

    func overview(_ session: ConsoleSession) async throws -> Response {
        let stats = try await store.stateCounts()
        let now = console.clock.now()
        let day = try await store.finishedCounts(since: now.addingTimeInterval(-86_400))
        let throttled = console.metrics.throttledCalls()
        var cards: [(String, String, String?)] = JobState.allCases.map { state in
            ("\(stats.total(state: state))", state.rawValue, "/console/jobs?state=\(state.rawValue)")
        }
        cards.append((stats.oldestDueAge.map { ConsoleHTML.age(Double($0.components.seconds)) } ?? "none", "oldest due job waiting", nil))
        cards.append(("\(day.succeeded)", "succeeded in the last 24 h", nil))
        cards.append(("\(day.failed)", "failed in the last 24 h", "/console/failures"))
        let pause = console.openEdXPause?()
        cards.append((pause.map { "paused \(ConsoleHTML.age(Double($0.components.seconds) + 1))" } ?? "pacing",
                      "Open edX: \(console.config.openedx.requestsPerMinute) requests/min", nil))
        cards.append(("\(throttled.count)", "429s from Open edX or a store" + (throttled.last.map { ", last \(Timestamp.format($0))" } ?? ""), nil))
        let cardHTML = "<div class=\"cards\">" + cards.map { value, label, href in
            let inner = "<b>\(ConsoleHTML.text(value))</b><span>\(ConsoleHTML.text(label))</span>"
            return href.map { "<a class=\"card\" href=\"\($0)\">\(inner)</a>" } ?? "<div class=\"card\">\(inner)</div>"
        }.joined() + "</div>"
        // Succeeded jobs are most of the table and counted as one; the kinds are for what still needs something.
        let open = JobState.allCases.filter { $0 != .succeeded }
        let byKind = Dictionary(grouping: stats.counts.filter { $0.kind != QueueStats.allKinds }, by: \.kind).sorted { $0.key.rawValue < $1.key.rawValue }
        let rows = byKind.map { kind, counts in
            [ConsoleHTML.link("/console/jobs?kind=\(Self.query(kind.rawValue))", kind.rawValue)] + open.map { state in
                let count = counts.first { $0.state == state }?.count ?? 0
                return count == 0 ? "0" : ConsoleHTML.link("/console/jobs?kind=\(Self.query(kind.rawValue))&state=\(state.rawValue)", "\(count)")
            }
        }
        let body = cardHTML + "<h2>Jobs not succeeded, by kind</h2>"
            + ConsoleHTML.table(["Kind"] + open.map(\.rawValue), rows, empty: "Every job has succeeded.")
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Overview", session: session, current: .overview, body: body))
    }

    // MARK: Failures inbox

    func failures(_ session: ConsoleSession) async throws -> Response {
        let failed = try await store.failureSummary(limit: 5_000)
        let groups = FailureGroups.group(failed)
        let now = console.clock.now()
        let rows = groups.map { group in
            let filter = "state=failed&kind=\(Self.query(group.kind))&error=\(Self.query(group.signature))"
            return [ConsoleHTML.text(group.kind), group.httpStatus.map(String.init) ?? "-", ConsoleHTML.text(group.signature),
                    "\(group.count)", ConsoleHTML.age(now.timeIntervalSince(group.oldest)),
                    ConsoleHTML.link("/console/jobs/\(group.sampleJobID)", "job \(group.sampleJobID)"),
                    ConsoleHTML.link("/console/jobs?\(filter)", "list") + " · " + ConsoleHTML.link("/console/bulk?action=replay&\(filter)", "replay all…")]
        }
        let note = failed.count == 5_000 ? "<p class=\"notice\">The 5,000 most frequent distinct errors.</p>" : ""
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Failures", session: session, current: .failures, body: note
            + ConsoleHTML.table(["Kind", "HTTP", "Error", "Jobs", "Oldest", "Newest job", ""], rows, empty: "No failed jobs.")))
    }

    // MARK: Job search

    /// The search form's filter, from the query string; a refusal names the field.
    static func filter(_ query: Parameters, limit: Int) -> Result<(JobFilter, error: String?), ConsoleProblem> {
        func value(_ name: String) -> String? {
            query[name[...]].map { String($0).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var filter = JobFilter(limit: limit)
        if let state = value("state") {
            guard let parsed = JobState(rawValue: state) else { return .failure(.init("state \(state) is not a job state")) }
            filter.state = parsed
        }
        filter.kind = value("kind").map { JobKind(rawValue: $0) }
        filter.email = value("email")
        filter.course = value("course")
        filter.order = value("order")
        filter.store = value("store")
        if let delivery = value("delivery") {
            guard let id = Int64(delivery) else { return .failure(.init("delivery \(delivery) is not a delivery id")) }
            filter.deliveryID = id
        }
        if let before = value("before") {
            guard let id = Int64(before) else { return .failure(.init("before \(before) is not a job id")) }
            filter.beforeID = id
        }
        return .success((filter, value("error")))
    }

    static let searchFields = ["state", "kind", "email", "course", "order", "store", "delivery", "error"]

    func search(_ session: ConsoleSession, _ query: Parameters) async throws -> Response {
        let values = Dictionary(uniqueKeysWithValues: Self.searchFields.map { ($0, query[$0[...]].map(String.init) ?? "") })
        let form = """
            <form method="get" action="/console/jobs" class="search">
            <label>State<select name="state"><option value="">any</option>\(JobState.allCases.map {
                "<option\(values["state"] == $0.rawValue ? " selected" : "")>\($0.rawValue)</option>" }.joined())</select></label>
            \(["kind", "email", "course", "order", "store", "delivery"].map { name in
                "<label>\(name == "order" ? "Order (REF or STORE:ID)" : name.capitalized)<input name=\"\(name)\" value=\"\(ConsoleHTML.text(values[name]))\"></label>"
            }.joined())
            \(values["error"].map { $0.isEmpty ? "" : "<input type=\"hidden\" name=\"error\" value=\"\(ConsoleHTML.text($0))\">" } ?? "")
            <button>Search</button></form>
            """
        let (filter, error): (JobFilter, String?)
        switch Self.filter(query, limit: Self.pageSize) {
        case .failure(let problem):
            return ConsoleHTML.response(.badRequest, ConsoleHTML.page("Jobs", session: session, current: .jobs,
                                                                     body: form + "<p class=\"refused\">\(ConsoleHTML.text(problem.message))</p>"))
        case .success(let found): (filter, error) = found
        }
        let (jobs, more) = try await matching(filter, error: error)
        let rows = jobs.map(Self.row)
        let window = filter.course != nil && filter.email == nil
            ? "<p class=\"empty\">A course alone is searched among the newest \(JobFilter.courseWindow) jobs; add the learner's email to search them all.</p>" : ""
        let carried = Self.searchFields.compactMap { name in values[name].flatMap { $0.isEmpty ? nil : "\(name)=\(Self.query($0))" } }
        var pager = ""
        if more, let last = jobs.last {
            let rest = carried.filter { !$0.hasPrefix("before=") }
            pager = "<p class=\"pager\"><a href=\"/console/jobs?\((rest + ["before=\(last.id)"]).joined(separator: "&"))\">Older →</a></p>"
        }
        let bulk = jobs.isEmpty || !ConsoleAccess.mayAct(.jobs, role: session.token.role) ? "" : """
            <p>\(ConsoleHTML.link("/console/bulk?action=replay&" + carried.joined(separator: "&"), "Replay everything matching…")) ·
            \(ConsoleHTML.link("/console/bulk?action=cancel&" + carried.joined(separator: "&"), "Cancel everything matching…"))</p>
            """
        let body = form + bulk + window + ConsoleHTML.table(["Job", "Kind", "State", "Tries", "Source", "Key", "Updated", "Last error"], rows,
                                                            empty: "No job matches.") + pager
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Jobs", session: session, current: .jobs, body: body))
    }

    /// Up to `filter.limit` jobs matching the filter and, when given, a failure group's error signature, newest
    /// first; and whether more match. The signature is matched here, so pages are read until the page is full.
    func matching(_ filter: JobFilter, error: String?) async throws -> (jobs: [Job], more: Bool) {
        guard let error else {
            let jobs = try await store.jobs(filter)
            return (jobs, jobs.count == filter.limit)
        }
        var found: [Job] = []
        var page = filter
        page.limit = max(filter.limit, 500)
        // A group's jobs are failed jobs of one kind: a few thousand pages at most, read from an index.
        for _ in 0..<200 {
            let batch = try await store.jobs(page)
            found += batch.filter { FailureGroups.signature($0.lastError ?? "") == error }
            if found.count > filter.limit { return (Array(found.prefix(filter.limit)), true) }
            guard batch.count == page.limit, let last = batch.last else { return (found, false) }
            page.beforeID = last.id
        }
        return (found, true)
    }

    static func row(_ job: Job) -> [String] {
        [ConsoleHTML.link("/console/jobs/\(job.id)", "\(job.id)"), ConsoleHTML.text(job.kind.rawValue), ConsoleHTML.badge(job.state.rawValue),
         "\(job.attempts)/\(job.maxAttempts)", ConsoleHTML.text(job.source), ConsoleHTML.text(job.dedupeKey), ConsoleHTML.time(job.updatedAt),
         ConsoleHTML.text(job.lastError.map { String($0.prefix(160)) })]
    }

    // MARK: Job detail

    func jobPage(_ session: ConsoleSession, _ detail: JobDetail, notice: String?) async throws -> Response {
        let job = detail.job
        let replayCheck = try await store.replay(ids: [job.id], actor: session.actor, dryRun: true)
        let replayRefusal = replayCheck.refused.first?.reason
            ?? replayCheck.superseded.first.map { "superseded by job \($0.byJobID), a later unenroll" }
        let cancelRefusal = OperatorRules.cancelRefusal(jobID: job.id, state: job.state)
        let mayAct = ConsoleAccess.mayAct(.jobs, role: session.token.role)
        func control(_ action: String, refusal: String?) -> String {
            if let refusal { return "<p class=\"refused\">\(action.capitalized) refused: \(ConsoleHTML.text(refusal))</p>" }
            guard mayAct else { return "<p class=\"empty\">\(action.capitalized) possible; your role may not.</p>" }
            return ConsoleHTML.form("/console/jobs/\(job.id)/\(action)", csrf: session.csrf, button: action.capitalized, danger: action == "cancel")
        }
        var facts: [(String, String)] = [
            ("State", ConsoleHTML.badge(job.state.rawValue)), ("Kind", ConsoleHTML.text(job.kind.rawValue)),
            ("Attempts", "\(job.attempts) of \(job.maxAttempts)"), ("Key", ConsoleHTML.text(job.dedupeKey)),
            ("Serial key", ConsoleHTML.text(job.serialKey)), ("Source", ConsoleHTML.text(job.source)),
            ("Created", ConsoleHTML.time(job.createdAt)), ("Updated", ConsoleHTML.time(job.updatedAt)),
            ("Runs at", ConsoleHTML.time(job.runAt)), ("Finished", ConsoleHTML.time(job.finishedAt)),
            ("Result", ConsoleHTML.text(job.result)), ("Last error", "<span class=\"refused\">\(ConsoleHTML.text(job.lastError))</span>"),
        ]
        if let delivery = job.deliveryID { facts.append(("Delivery", ConsoleHTML.link("/console/deliveries/\(delivery)", "delivery \(delivery)"))) }
        if let reference = Self.orderReference(job.dedupeKey) { facts.append(("Order", ConsoleHTML.link("/console/orders/\(reference)", reference))) }
        let attempts = detail.attempts.map { attempt in
            ["\(attempt.attempt)", ConsoleHTML.time(attempt.startedAt), attempt.durationMilliseconds.map { "\($0) ms" } ?? "-",
             ConsoleHTML.text(attempt.outcome), attempt.httpStatus.map(String.init) ?? "-", ConsoleHTML.text(attempt.error)]
        }
        let actions = detail.actions.map { [ConsoleHTML.time($0.at), ConsoleHTML.text($0.actor), ConsoleHTML.text($0.action), ConsoleHTML.text($0.detail)] }
        let body = """
            <dl>\(facts.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined())</dl>
            <h2>Actions</h2>\(control("replay", refusal: replayRefusal))\(control("cancel", refusal: cancelRefusal))
            <h2>Payload</h2><pre>\(ConsoleHTML.text(job.payload))</pre>
            <h2>Attempts</h2>\(ConsoleHTML.table(["#", "Started", "Took", "Outcome", "HTTP", "Error"], attempts, empty: "Not tried yet."))
            <h2>Audit trail</h2>\(ConsoleHTML.table(["At", "Who", "Action", "Detail"], actions, empty: "Nobody has acted on this job."))
            """
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Job \(job.id)", session: session, current: .jobs, body: body, notice: notice))
    }

    /// A hosted-checkout order's reference from one of its jobs' keys.
    static func orderReference(_ dedupeKey: String) -> String? {
        guard dedupeKey.hasPrefix("order:") else { return nil }
        return dedupeKey.dropFirst("order:".count).split(separator: ":").first.map(String.init)
    }

    // MARK: Bulk replay and cancel

    func bulkPreview(_ session: ConsoleSession, _ query: Parameters) async throws -> Response {
        let action = query["action"].map(String.init) == "cancel" ? "cancel" : "replay"
        guard case .success(let (filterBase, error)) = Self.filter(query, limit: Self.bulkLimit) else {
            return ConsoleHTML.redirect("/console/jobs")
        }
        var filter = filterBase
        filter.beforeID = nil
        let (jobs, capped) = try await matching(filter, error: error)
        let ids = jobs.map(\.id)
        let refusals: [Int64: String]
        if action == "replay" {
            let dry = try await store.replay(ids: ids, actor: session.actor, dryRun: true)
            refusals = Dictionary(dry.refused.map { ($0.jobID, $0.reason) } + dry.superseded.map { ($0.jobID, "superseded by job \($0.byJobID)") },
                                  uniquingKeysWith: { first, _ in first })
        } else {
            refusals = Dictionary(uniqueKeysWithValues: jobs.compactMap { job in
                OperatorRules.cancelRefusal(jobID: job.id, state: job.state).map { (job.id, $0) }
            })
        }
        let taken = ids.filter { refusals[$0] == nil }
        let rows = jobs.map { job in
            Self.row(job) + [refusals[job.id].map { "<span class=\"refused\">\(ConsoleHTML.text($0))</span>" } ?? "will \(action)"]
        }
        let cappedNote = capped ? "<p class=\"notice\">The newest \(Self.bulkLimit) matching jobs; run it again for the rest.</p>" : ""
        let confirm = taken.isEmpty ? "<p class=\"empty\">Nothing to \(action).</p>" : """
            <p>\(action.capitalized) these \(taken.count) jobs? Jobs marked refused are left as they are.</p>
            \(ConsoleHTML.form("/console/bulk", csrf: session.csrf, fields: [("action", action), ("ids", taken.map(String.init).joined(separator: ","))],
                               button: "\(action.capitalized) \(taken.count) jobs", danger: action == "cancel"))
            """
        let body = cappedNote + confirm + ConsoleHTML.table(["Job", "Kind", "State", "Tries", "Source", "Key", "Updated", "Last error", "Dry run"], rows,
                                                        empty: "No job matches.")
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Bulk \(action): preview", session: session, current: .jobs, body: body))
    }

    func bulkApply(_ session: ConsoleSession, _ fields: [String: String]) async throws -> Response {
        let action = fields["action"] == "cancel" ? "cancel" : "replay"
        let ids = (fields["ids"] ?? "").split(separator: ",").compactMap { Int64($0) }.prefix(Self.bulkLimit)
        // The store checks each job again: one that changed since the preview is refused, not forced.
        let report = action == "replay" ? try await store.replay(ids: Array(ids), actor: session.actor)
            : try await store.cancel(ids: Array(ids), actor: session.actor)
        let rows = report.applied.map { [ConsoleHTML.link("/console/jobs/\($0)", "\($0)"), action == "replay" ? "replayed" : "cancelled"] }
            + report.superseded.map { [ConsoleHTML.link("/console/jobs/\($0.jobID)", "\($0.jobID)"), "superseded by job \($0.byJobID)"] }
            + report.refused.map { [ConsoleHTML.link("/console/jobs/\($0.jobID)", "\($0.jobID)"), "<span class=\"refused\">refused: \(ConsoleHTML.text($0.reason))</span>"] }
        let verb = action == "replay" ? "replayed" : "cancelled"
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Bulk \(action): done", session: session, current: .jobs,
                                                          body: ConsoleHTML.table(["Job", "Outcome"], rows),
                                                          notice: "\(report.applied.count) \(verb), \(report.refused.count + report.superseded.count) refused. Each is in the audit trail under \(session.actor)."))
    }

    static func query(_ value: String) -> String { FormEncoding.escape(value) }
}

/// Why a console request was refused, in a sentence naming the field.
struct ConsoleProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
