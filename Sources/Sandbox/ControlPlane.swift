import Foundation

/// `/__sandbox/*`: how tests, the demo and benchmarks set the scene and read the effects.
/// No authentication, no faults, no throttle.
extension SandboxState {
    func control(_ request: IncomingRequest) -> Reply {
        let route = request.segments.dropFirst().joined(separator: "/")
        do {
            switch (request.method, route) {
            case ("POST", "users"):
                let user = try decodeBody(SandboxSeed.User.self, request)
                let enrolled = try registerUser(user)
                guard let account = store.accounts[user.username.trimmingCharacters(in: .whitespaces)] else {
                    throw SandboxError.notFound(user.username)
                }
                var body = accountJSON(account).objectValue ?? [:]
                body["auto_enrolled"] = .array(enrolled.map(SandboxJSON.string))
                return .json(.created, .object(body))
            case ("POST", "courses"):
                let course = try decodeBody(SandboxSeed.Course.self, request)
                let isNew = try store.upsertCourse(course)
                return .json(isNew ? .created : .ok, getCourseRunJSON(course.id))
            case ("POST", "woocommerce/orders"):
                let body = try jsonBody(request)
                // An array adds many at once (benchmarks put thousands in the store).
                if let orders = body.arrayValue {
                    var created = 0
                    for order in orders where try store.upsertOrder(order, touch: order["date_modified_gmt"] == nil) { created += 1 }
                    return .json(.created, ["created": .int(created), "updated": .int(orders.count - created)])
                }
                let isNew = try store.upsertOrder(body, touch: true)
                return .json(isNew ? .created : .ok, store.wooOrders[body["id"]?.intValue ?? 0] ?? .null)
            case ("POST", "woocommerce/webhooks"):
                return .json(.created, try store.upsertWebhook(try jsonBody(request)))
            case ("GET", "woocommerce/settings"):
                return .ok(store.wooSettings.json)
            case ("POST", "woocommerce/settings"):
                let body = try jsonBody(request)
                if let value = body["ignore_modified_after"] {
                    guard case .bool(let flag) = value else { throw SandboxError.invalid("ignore_modified_after is true or false") }
                    store.wooSettings.ignoreModifiedAfter = flag
                }
                if let value = body["down"] {
                    guard case .bool(let flag) = value else { throw SandboxError.invalid("down is true or false") }
                    store.wooSettings.down = flag
                }
                return .ok(store.wooSettings.json)
            case ("POST", "woocommerce/refunds"):
                let body = try jsonBody(request)
                guard let orderID = body["order_id"]?.intValue, let refund = body["refund"] else {
                    throw SandboxError.invalid("expected {\"order_id\": N, \"refund\": {...}}")
                }
                return .json(.created, try store.addRefund(orderID: orderID, refund: refund, touch: true))
            case ("GET", "faults"):
                return .ok(Self.faultsJSON(faults))
            case ("POST", "faults"):
                setFaults(try Self.updatedFaults(faults, with: try jsonBody(request)))
                return .ok(Self.faultsJSON(faults))
            case ("POST", "tokens/revoke"):
                return .ok(["revoked": .int(revokeTokens())])
            case ("GET", "mail"):
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                let data = try encoder.encode(mailbox.all)
                return .ok(try SandboxJSON.decode(data))
            case ("GET", "ledger"):
                let since = request.queryValue("since").flatMap(Int.init) ?? 0
                let entries = store.ledger.entries.filter { $0.seq > since }
                let data = try JSONEncoder().encode(entries)
                return .ok(try SandboxJSON.decode(data))
            case ("GET", "courses"):
                // Every course run, those made by clone or rerun among them, with their schedule.
                return .ok(.array(store.courses.values.sorted { $0.id < $1.id }.map { course in
                    ["id": .string(course.id), "title": .string(course.title), "pacing_type": .string(course.pacingType),
                     "start": .optional(course.start.map(Timestamp.format)), "end": .optional(course.end.map(Timestamp.format)),
                     "enrollment_start": .optional(course.enrollmentStart.map(Timestamp.format)),
                     "enrollment_end": .optional(course.enrollmentEnd.map(Timestamp.format))]
                }))
            case ("GET", "enrollments"):
                if let courseID = request.queryValue("course_id") {
                    return .ok(.array((store.enrollmentIDsByCourse[courseID] ?? []).map { enrollmentDump(store.enrollment(id: $0)) }))
                }
                return .ok(.array(store.enrollmentsInOrder.map(enrollmentDump)))
            case ("POST", "enrollments"):
                // Enrollments made outside Registrar: one, a list of them, or `count` generated learners.
                let body = try jsonBody(request)
                if let items = body.arrayValue {
                    var created = 0
                    for (index, item) in items.enumerated() {
                        do {
                            if try seedEnrollment(try Self.seedEnrollment(from: item)).created { created += 1 }
                        } catch let error as SandboxError {
                            throw error.prefixed("item \(index) (the ones before it are applied)")
                        }
                    }
                    return .json(.created, ["created": .int(created), "updated": .int(items.count - created)])
                }
                if body["count"] != nil {
                    return .json(.created, try seedEnrollments(try Self.bulkEnrollment(from: body)).json)
                }
                let (record, created) = try seedEnrollment(try Self.seedEnrollment(from: body))
                return .json(created ? .created : .ok, enrollmentDump(record))
            case ("GET", "lms/settings"):
                return .ok(lmsSettings.json)
            case ("POST", "lms/settings"):
                let body = try jsonBody(request)
                if let value = body["enrollments_pagination"] {
                    guard let style = value.stringValue.flatMap(SandboxPagination.init(rawValue:)) else {
                        throw SandboxError.invalid("enrollments_pagination is cursor or page_number")
                    }
                    lmsSettings.enrollmentsPagination = style
                }
                if let value = body["enrollments_page_size"] {
                    guard case .int(let size) = value, size > 0 else {
                        throw SandboxError.invalid("enrollments_page_size must be a positive integer")
                    }
                    lmsSettings.enrollmentsPageSize = size
                }
                return .ok(lmsSettings.json)
            case ("GET", "stats"):
                return .ok(try SandboxJSON.decode(try JSONEncoder().encode(currentStats())))
            case ("POST", "reset"):
                try reset()
                return .ok(["status": "reset"])
            default:
                return .json(.notFound, ["error": "not_found", "message": .string("no control endpoint \(request.method) /__sandbox/\(route)")])
            }
        } catch let error as SandboxError {
            return .controlError(error)
        } catch {
            return .controlError(.invalid("\(error)"))
        }
    }

    /// Adds an account, then converts its pending auto-enroll rows as registration does.
    func registerUser(_ user: SandboxSeed.User) throws -> [String] {
        try store.addAccount(user)
        guard let account = store.accounts[user.username.trimmingCharacters(in: .whitespaces)] else { return [] }
        return applyAllowed(to: account)
    }

    func upsertCourse(_ course: SandboxSeed.Course) throws -> Bool { try store.upsertCourse(course) }

    func upsertWooOrder(_ order: SandboxJSON) throws -> Bool { try store.upsertOrder(order, touch: true) }

    func upsertWooOrders(_ orders: [SandboxJSON]) throws {
        for order in orders { _ = try store.upsertOrder(order, touch: order["date_modified_gmt"] == nil) }
    }

    func addWooWebhook(_ webhook: SandboxJSON) throws { _ = try store.upsertWebhook(webhook) }

    func setWooSettings(ignoreModifiedAfter: Bool?, down: Bool?) {
        if let ignoreModifiedAfter { store.wooSettings.ignoreModifiedAfter = ignoreModifiedAfter }
        if let down { store.wooSettings.down = down }
    }

    func addWooRefund(orderID: Int, refund: SandboxJSON) throws -> SandboxJSON {
        try store.addRefund(orderID: orderID, refund: refund, touch: true)
    }

    func ledgerEntries() -> [LedgerEntry] { store.ledger.entries }

    func enrollment(username: String, courseID: String) -> SandboxEnrollment? {
        store.enrollments[EnrollmentKey(username: username, courseID: courseID)].map(enrollmentSummary)
    }

    func allEnrollments() -> [SandboxEnrollment] {
        store.enrollmentsInOrder.map(enrollmentSummary)
    }

    func seedEnrollmentSummary(_ seed: SandboxSeedEnrollment) throws -> SandboxEnrollment {
        enrollmentSummary(try seedEnrollment(seed).record)
    }

    func setLMSSettings(pagination: SandboxPagination?, pageSize: Int?) {
        if let pagination { lmsSettings.enrollmentsPagination = pagination }
        if let pageSize { lmsSettings.enrollmentsPageSize = max(1, pageSize) }
    }

    private func enrollmentSummary(_ record: EnrollmentRecord) -> SandboxEnrollment {
        SandboxEnrollment(username: record.username, courseID: record.courseID, mode: record.mode, isActive: record.isActive)
    }

    private func enrollmentDump(_ record: EnrollmentRecord) -> SandboxJSON {
        [
            "user": .string(record.username), "course_id": .string(record.courseID),
            "mode": .string(record.mode), "is_active": .bool(record.isActive),
            "created": .string(Timestamp.format(record.created)),
        ]
    }

    private func getCourseRunJSON(_ id: String) -> SandboxJSON {
        guard let course = store.courses[id] else { return .null }
        var body = courseDetailsJSON(course).objectValue ?? [:]
        body["enrollment_open"] = .bool(course.enrollmentOpen)
        body["max_enrollments"] = .optional(course.maxEnrollments)
        body["modes"] = .array(course.modes.map(SandboxJSON.string))
        return .object(body)
    }

    private func jsonBody(_ request: IncomingRequest) throws -> SandboxJSON {
        switch request.jsonBody() {
        case nil: throw SandboxError.invalid("a JSON body is required")
        case .failure(let failure)?: throw SandboxError.invalid("body is not JSON: \(failure.message)")
        case .success(let value)?: return value
        }
    }

    private func decodeBody<T: Decodable>(_ type: T.Type, _ request: IncomingRequest) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: request.body)
        } catch {
            throw SandboxError.invalid("body does not describe a \(T.self): \(error)")
        }
    }

    static func faultsJSON(_ faults: SandboxFaults) -> SandboxJSON {
        [
            "fail_rate": .double(faults.failRate),
            "latency_ms": .int(Int(faults.latency / .milliseconds(1))),
            "throttle_per_minute": .optional(faults.throttlePerMinute),
            "kinds": .array(faults.kinds.map { .string($0.rawValue) }),
            "slow_ms": .int(Int(faults.slowAnswerDelay / .milliseconds(1))),
        ]
    }

    /// Applies the keys present; `"throttle_per_minute": null` turns the throttle off.
    static func updatedFaults(_ current: SandboxFaults, with body: SandboxJSON) throws -> SandboxFaults {
        guard let fields = body.objectValue else { throw SandboxError.invalid("expected a JSON object") }
        var faults = current
        if let value = fields["fail_rate"] {
            guard let rate = value.doubleValue, (0...1).contains(rate) else {
                throw SandboxError.invalid("fail_rate must be a number between 0 and 1")
            }
            faults.failRate = rate
        }
        if let value = fields["latency_ms"] {
            guard let ms = value.intValue, ms >= 0 else { throw SandboxError.invalid("latency_ms must be a non-negative integer") }
            faults.latency = .milliseconds(ms)
        }
        if let value = fields["slow_ms"] {
            guard let ms = value.intValue, ms >= 0 else { throw SandboxError.invalid("slow_ms must be a non-negative integer") }
            faults.slowAnswerDelay = .milliseconds(ms)
        }
        if let value = fields["throttle_per_minute"] {
            if value.isNull {
                faults.throttlePerMinute = nil
            } else {
                guard let limit = value.intValue, limit >= 0 else {
                    throw SandboxError.invalid("throttle_per_minute must be a non-negative integer or null")
                }
                faults.throttlePerMinute = limit
            }
        }
        if let value = fields["kinds"] {
            guard let items = value.arrayValue else { throw SandboxError.invalid("kinds must be a list") }
            faults.kinds = try items.map { item in
                guard let kind = item.stringValue.flatMap(SandboxFaultKind.init(rawValue:)) else {
                    throw SandboxError.invalid("unknown fault kind \(item.pythonDescription); use 500, 502, 503, reset, slow")
                }
                return kind
            }
        }
        return faults
    }
}

/// An enrollment as the sandbox holds it, for in-process checks.
public struct SandboxEnrollment: Sendable, Equatable, Codable {
    public var username: String
    public var courseID: String
    public var mode: String
    public var isActive: Bool

    public init(username: String, courseID: String, mode: String, isActive: Bool) {
        self.username = username
        self.courseID = courseID
        self.mode = mode
        self.isActive = isActive
    }
}
