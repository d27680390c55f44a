import CurlHTTP
import Foundation
import RegistrarCore

/// The Open edX LMS and Studio calls Registrar makes, over libcurl, authenticated with an OAuth2
/// client-credentials JWT and paced below the staff throttle. Every answer is classified by
/// `CallOutcome.classify`; the few answers that mean "already done" are turned into success here.
public final class OpenEdXClient: Sendable {
    public let settings: OpenEdXSettings
    private let http: CurlHTTPClient
    private let tokens: AccessTokenProvider
    private let pacer: any RequestPacing
    private let observe: @Sendable (_ endpoint: String, _ status: Int?) -> Void

    /// - Parameter pacer: what paces the calls; by default this process's own, at `settings.requestsPerMinute`.
    public init(settings: OpenEdXSettings, http: CurlHTTPClient, pacer: (any RequestPacing)? = nil,
                observe: @escaping @Sendable (_ endpoint: String, _ status: Int?) -> Void = { _, _ in }) {
        self.settings = settings
        self.http = http
        let pacer = pacer ?? RequestPacer(requestsPerMinute: settings.requestsPerMinute)
        self.pacer = pacer
        self.tokens = AccessTokenProvider(settings: settings, http: http, pacer: pacer) { status in
            observe("oauth2.access_token", status)
        }
        self.observe = observe
    }

    /// Tokens fetched so far (for metrics and tests).
    public var tokenRefreshes: Int { get async { await tokens.refreshes } }
    /// How much longer every call waits for a 429's Retry-After; nil when calls are only paced.
    public var pausedFor: Duration? { pacer.pausedFor }

    // MARK: Accounts

    /// The username of the account with this email, `nil` when the LMS has none (404).
    public func username(forEmail email: String) async -> OpenEdXResult<String?> {
        let url = settings.lmsURL + "/api/user/v1/accounts?email=" + FormEncoding.escape(email)
        switch await send("accounts", "GET", url) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            if response.status == 404 { return .ok(nil, status: 404) }
            guard response.isSuccess else { return classified(response) }
            let accounts = JSONValue.parse(response.bodyText)?.arrayValue ?? []
            let match = accounts.first { $0["email"]?.stringValue?.lowercased() == email.lowercased() } ?? accounts.first
            guard let username = match?["username"]?.stringValue else {
                return .failed(.transient(message: "account lookup answered 200 without a username", retryAfter: nil),
                               status: response.status)
            }
            return .ok(username, status: response.status)
        }
    }

    /// The email of each named account the LMS has, 100 names a call (`GET /api/user/v1/accounts?username=a,b,…`);
    /// names it does not know are absent from the answer. The parameter is `username` even for a list: the LMS
    /// does not read `usernames`, and without a known parameter it describes the caller's own account instead.
    public func accounts(usernames: [String]) async -> OpenEdXResult<[String: String]> {
        var asked = Set<String>()
        // A comma would split one name into two; no Open edX username has one.
        let names = usernames.filter { !$0.isEmpty && !$0.contains(",") && asked.insert($0).inserted }
        var emails: [String: String] = [:]
        var lastStatus = 200
        for start in stride(from: 0, to: names.count, by: 100) {
            let batch = names[start..<min(start + 100, names.count)]
            let url = settings.lmsURL + "/api/user/v1/accounts?username=" + FormEncoding.escape(batch.joined(separator: ","))
            switch await send("accounts", "GET", url) {
            case .failed(let outcome, let status): return .failed(outcome, status: status)
            case .answered(let response):
                lastStatus = response.status
                // None of this batch exists.
                if response.status == 404 { continue }
                guard response.isSuccess else { return classified(response) }
                guard let accounts = JSONValue.parse(response.bodyText)?.arrayValue else {
                    return .failed(.transient(message: "account lookup answered \(response.status) without a list", retryAfter: nil),
                                   status: response.status)
                }
                // Only names asked for: an account the LMS adds (the caller's own) is not one of the learners.
                for account in accounts {
                    guard let name = account["username"]?.stringValue, asked.contains(name),
                          let email = account["email"]?.stringValue else { continue }
                    emails[name] = email
                }
            }
        }
        return .ok(emails, status: lastStatus)
    }

    // MARK: Enrollment

    public func enroll(username: String, courseID: String, mode: String?, orderReference: String?) async
        -> OpenEdXResult<EnrollmentInfo?> {
        var body: [String: JSONValue] = [
            "user": .string(username),
            "is_active": .bool(true),
            "course_details": .object(["course_id": .string(courseID)]),
        ]
        if let mode { body["mode"] = .string(mode) }
        if settings.forceEnrollment { body["force_enrollment"] = .bool(true) }
        if let orderReference {
            body["enrollment_attributes"] = .array([.object([
                "namespace": .string("order"), "name": .string("order_number"), "value": .string(orderReference),
            ])])
        }
        switch await send("enrollment", "POST", settings.lmsURL + "/api/enrollment/v1/enrollment", json: .object(body)) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            guard response.isSuccess else { return classified(response) }
            return .ok(JSONValue.parse(response.bodyText).flatMap(EnrollmentInfo.init), status: response.status)
        }
    }

    /// Soft unenroll: `is_active: false` and no mode (a mode different from the active one is refused).
    public func unenroll(username: String, courseID: String) async -> OpenEdXResult<EnrollmentInfo?> {
        let body: JSONValue = .object([
            "user": .string(username),
            "is_active": .bool(false),
            "course_details": .object(["course_id": .string(courseID)]),
        ])
        switch await send("enrollment", "POST", settings.lmsURL + "/api/enrollment/v1/enrollment", json: body) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            // openedx/ecommerce counts a mode mismatch on deactivation as revoked too.
            if response.status == 400, response.bodyText.contains("Enrollment mode mismatch") { return .ok(nil, status: 400) }
            guard response.isSuccess else { return classified(response) }
            return .ok(JSONValue.parse(response.bodyText).flatMap(EnrollmentInfo.init), status: response.status)
        }
    }

    /// One enrollment, `nil` when there is none (the LMS answers 200 `null`).
    public func enrollment(username: String, courseID: String) async -> OpenEdXResult<EnrollmentInfo?> {
        let url = settings.lmsURL + "/api/enrollment/v1/enrollment/" + pathEscape(username) + "," + pathEscape(courseID)
        switch await send("enrollment", "GET", url) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            guard response.isSuccess else { return classified(response) }
            return .ok(JSONValue.parse(response.bodyText).flatMap(EnrollmentInfo.init), status: response.status)
        }
    }

    /// Every enrollment of a course (inactive ones included), following `next` verbatim to the end, so cursor
    /// pagination (older releases) and page numbers (the newest) are read alike.
    public func enrollments(courseID: String, usernames: [String] = []) async -> OpenEdXResult<[EnrollmentInfo]> {
        var url: String? = settings.lmsURL + "/api/enrollment/v1/enrollments?course_id=" + FormEncoding.escape(courseID)
        if !usernames.isEmpty { url! += "&username=" + FormEncoding.escape(usernames.joined(separator: ",")) }
        var all: [EnrollmentInfo] = []
        var lastStatus = 200
        var pages = 0
        while let next = url {
            pages += 1
            if pages > 100_000 { return .failed(.permanent(message: "enrollment list did not end after 100000 pages"), status: nil) }
            switch await send("enrollments", "GET", next) {
            case .failed(let outcome, let status): return .failed(outcome, status: status)
            case .answered(let response):
                guard response.isSuccess else { return classified(response) }
                lastStatus = response.status
                let json = JSONValue.parse(response.bodyText)
                // A bare list (the oldest releases), or `results` beside the links (cursor or page-number pages).
                let items = json?["results"]?.arrayValue ?? json?.arrayValue ?? []
                all += items.compactMap(EnrollmentInfo.init)
                url = json?["next"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            }
        }
        return .ok(all, status: lastStatus)
    }

    // MARK: enrollment_allowed

    /// Lets the person be enrolled when they register with this email (auto_enroll). 409 = already there.
    public func allowEnrollment(email: String, courseID: String) async -> OpenEdXResult<Idempotent<Void>> {
        let body: JSONValue = .object(["email": .string(email), "course_id": .string(courseID), "auto_enroll": .bool(true)])
        switch await send("enrollment_allowed", "POST", settings.lmsURL + "/api/enrollment/v1/enrollment_allowed/", json: body) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            if response.status == 409 { return .ok(.alreadyDone(()), status: 409) }
            guard response.isSuccess else { return classified(response) }
            return .ok(.done(()), status: response.status)
        }
    }

    /// Removes a pending enrollment_allowed row. 404 = there was none.
    public func disallowEnrollment(email: String, courseID: String) async -> OpenEdXResult<Idempotent<Void>> {
        let body: JSONValue = .object(["email": .string(email), "course_id": .string(courseID)])
        switch await send("enrollment_allowed", "DELETE", settings.lmsURL + "/api/enrollment/v1/enrollment_allowed/", json: body) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            if response.status == 404 { return .ok(.alreadyDone(()), status: 404) }
            guard response.isSuccess else { return classified(response) }
            return .ok(.done(()), status: response.status)
        }
    }

    // MARK: Studio

    /// Creates the rerun; the target already existing counts as done. Returns the new run's key.
    public func rerun(_ payload: RerunPayload) async -> OpenEdXResult<Idempotent<String>> {
        var body: [String: JSONValue] = ["run": .string(payload.run)]
        if let title = payload.title { body["title"] = .string(title) }
        if let pacing = payload.pacing { body["pacing_type"] = .string(pacing) }
        if let start = payload.start, let end = payload.end {
            body["schedule"] = .object(["start": .string(start), "end": .string(end)])
        }
        let url = settings.studioURL + "/api/v1/course_runs/" + pathEscape(payload.sourceCourseID) + "/rerun/"
        switch await send("course_runs.rerun", "POST", url, json: .object(body)) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            let target = payload.targetCourseID ?? payload.run
            if response.status == 400, response.bodyText.contains("already exists") {
                return .ok(.alreadyDone(target), status: 400)
            }
            guard response.isSuccess else { return classified(response) }
            let id = JSONValue.parse(response.bodyText)?["id"]?.stringValue ?? target
            return .ok(.done(id), status: response.status)
        }
    }

    /// A course run's display name from Studio (`GET /api/v1/course_runs/{key}/`): nil when the run is absent or
    /// has no title.
    public func courseTitle(_ courseID: String) async -> OpenEdXResult<String?> {
        let url = settings.studioURL + "/api/v1/course_runs/" + pathEscape(courseID) + "/"
        switch await send("course_runs.get", "GET", url) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            if response.status == 404 { return .ok(nil, status: 404) }
            guard response.isSuccess else { return classified(response) }
            let title = JSONValue.parse(response.bodyText)?["title"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
            return .ok(title?.isEmpty == false ? title : nil, status: response.status)
        }
    }

    /// A course run as Studio has it (`GET /api/v1/course_runs/{key}/`): nil when absent.
    public func courseRun(_ courseID: String) async -> OpenEdXResult<JSONValue?> {
        let url = settings.studioURL + "/api/v1/course_runs/" + pathEscape(courseID) + "/"
        switch await send("course_runs.get", "GET", url) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            if response.status == 404 { return .ok(nil, status: 404) }
            guard response.isSuccess else { return classified(response) }
            return .ok(JSONValue.parse(response.bodyText) ?? .object([:]), status: response.status)
        }
    }

    /// `POST /api/v1/course_runs/clone/`: the source run copied under another key (and organization). A 400
    /// saying the destination exists counts as done: a retry after a timeout finds the clone made.
    public func cloneCourseRun(source: String, destination: String) async -> OpenEdXResult<Idempotent<String>> {
        let url = settings.studioURL + "/api/v1/course_runs/clone/"
        let body: JSONValue = .object(["source_course_id": .string(source), "destination_course_id": .string(destination)])
        switch await send("course_runs.clone", "POST", url, json: body) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            if response.status == 400, response.bodyText.lowercased().contains("already exists") {
                return .ok(.alreadyDone(destination), status: 400)
            }
            guard response.isSuccess else { return classified(response) }
            return .ok(.done(destination), status: response.status)
        }
    }

    /// `PUT /api/v1/course_runs/{key}/`: title, pacing and, when given, the schedule (start and end both).
    public func putCourseRun(_ courseID: String, title: String, pacing: String, schedule: (start: String, end: String)?) async
        -> OpenEdXResult<Void> {
        var body: [String: JSONValue] = ["title": .string(title), "pacing_type": .string(pacing)]
        if let schedule {
            body["schedule"] = .object(["start": .string(schedule.start), "end": .string(schedule.end),
                                        "enrollment_start": .string(schedule.start), "enrollment_end": .string(schedule.end)])
        }
        let url = settings.studioURL + "/api/v1/course_runs/" + pathEscape(courseID) + "/"
        switch await send("course_runs.put", "PUT", url, json: .object(body)) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            guard response.isSuccess else { return classified(response) }
            return .ok((), status: response.status)
        }
    }

    /// Sets a course run's dates (a rerun clears them).
    public func updateCourseRun(_ courseID: String, start: String, end: String) async -> OpenEdXResult<Void> {
        let body: JSONValue = .object(["schedule": .object(["start": .string(start), "end": .string(end)])])
        let url = settings.studioURL + "/api/v1/course_runs/" + pathEscape(courseID) + "/"
        switch await send("course_runs.update", "PATCH", url, json: body) {
        case .failed(let outcome, let status): return .failed(outcome, status: status)
        case .answered(let response):
            guard response.isSuccess else { return classified(response) }
            return .ok((), status: response.status)
        }
    }

    // MARK: Transport

    private enum Exchange {
        case answered(HTTPResponse)
        case failed(CallOutcome, status: Int?)
    }

    /// One authenticated, paced call. A 401 invalidates the token and retries once with a fresh one;
    /// a 429 pauses the pacer for everyone until Retry-After.
    private func send(_ endpoint: String, _ method: String, _ url: String, json: JSONValue? = nil) async -> Exchange {
        for attempt in 0..<2 {
            let token: String
            do {
                token = try await tokens.token()
            } catch AccessTokenProvider.TokenError.rejected(let outcome, let status) {
                return .failed(outcome, status: status)
            } catch {
                return .failed(.transient(message: "token refresh interrupted: \(error)", retryAfter: nil), status: nil)
            }
            do {
                try await pacer.acquire()
            } catch {
                return .failed(.transient(message: "cancelled while waiting for a request slot", retryAfter: nil), status: nil)
            }
            var headers: HTTPHeaders = ["Authorization": "JWT \(token)", "Accept": "application/json"]
            var body: [UInt8]?
            if let json {
                headers.set(name: "Content-Type", value: "application/json")
                body = Array(((try? JSONText.encode(json)) ?? "{}").utf8)
            }
            let response: HTTPResponse
            do {
                response = try await http.execute(HTTPRequest(method: method, url: url, headers: headers, body: body))
            } catch let error as HTTPClientError {
                observe(endpoint, nil)
                if case .timeout = error {
                    // The LMS may still be working on a request we stopped waiting for. Retrying no sooner than
                    // the time we gave it lets a late success land before the next change of the same learner
                    // and course (an unenroll must never be overtaken by the enroll it undoes).
                    return .failed(.transient(message: "\(method) \(endpoint): \(error)", retryAfter: http.configuration.totalTimeout),
                                   status: nil)
                }
                return .failed(.transportFailure("\(method) \(endpoint): \(error)"), status: nil)
            } catch {
                observe(endpoint, nil)
                return .failed(.transient(message: "\(method) \(endpoint) interrupted: \(error)", retryAfter: nil), status: nil)
            }
            observe(endpoint, response.status)
            if response.status == 401, attempt == 0 {
                await tokens.invalidate(token)
                continue
            }
            if response.status == 429 {
                pacer.pause(for: response.retryAfter ?? .seconds(60))
            }
            return .answered(response)
        }
        return .failed(.permanent(message: "unreachable"), status: nil)
    }

    private func classified<T>(_ response: HTTPResponse) -> OpenEdXResult<T> {
        .failed(CallOutcome.classify(status: response.status, body: response.bodyText, retryAfter: response.retryAfter),
                status: response.status)
    }

    private func pathEscape(_ text: String) -> String {
        // Course keys keep their ':' and '+' in paths, as the LMS's own URLs do.
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: ",/?#"))) ?? text
    }
}
