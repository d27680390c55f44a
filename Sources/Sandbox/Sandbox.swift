import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The bundled Open edX (LMS + Studio) and WooCommerce REST stand-in.
public enum Sandbox {
    /// Starts the server in the background and returns once it listens.
    public static func start(_ configuration: SandboxConfiguration) async throws -> RunningSandbox {
        let state = try SandboxState(configuration: configuration)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = makeApplication(configuration, state: state) { port in
            portContinuation.yield(port)
        }
        // A service group rather than a bare task, so `stop()` can shut down gracefully: task
        // cancellation makes Hummingbird log every open connection as an error.
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: configuration.logger)
        )
        let server = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            // The server ended before listening (port in use, bad host): report why.
            try await server.value
            throw SandboxError.serverStopped
        }
        portContinuation.finish()
        let baseURL = "http://\(configuration.host):\(port)"
        await state.setOrigin(baseURL)
        var sink: SMTPSink?
        if let smtpPort = configuration.smtpPort {
            sink = try await SMTPSink.start(host: configuration.host, port: smtpPort, mailbox: state.mailbox)
        }
        return RunningSandbox(port: port, baseURL: baseURL, state: state, group: group, server: server, sink: sink)
    }

    static func makeApplication(
        _ configuration: SandboxConfiguration,
        state: SandboxState,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> Application<SandboxResponder> {
        Application(
            responder: SandboxResponder(state: state),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: nil
            ),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                await state.setOrigin("http://\(configuration.host):\(port)")
                await onListening(port)
            },
            logger: configuration.logger
        )
    }
}

/// Runs the sandbox in the foreground until the task is cancelled or the process gets SIGINT or
/// SIGTERM (for `registrar sandbox`). `onListening` receives the base URL once it listens.
public func runSandbox(
    _ configuration: SandboxConfiguration,
    onListening: @escaping @Sendable (String) async -> Void = { _ in }
) async throws {
    let state = try SandboxState(configuration: configuration)
    let app = Sandbox.makeApplication(configuration, state: state) { port in
        await onListening("http://\(configuration.host):\(port)")
    }
    var sink: SMTPSink?
    if let smtpPort = configuration.smtpPort {
        sink = try await SMTPSink.start(host: configuration.host, port: smtpPort, mailbox: state.mailbox)
        configuration.logger.info("SMTP sink listening", metadata: ["port": "\(sink?.port ?? 0)"])
    }
    defer { if let channel = sink?.channel { channel.close(promise: nil) } }
    try await app.runService()
}

/// A sandbox started with `Sandbox.start`, and the in-process equivalents of `/__sandbox`.
public struct RunningSandbox: Sendable {
    public let port: Int
    /// `http://127.0.0.1:PORT`: LMS, Studio and the store all live here.
    public let baseURL: String
    let state: SandboxState
    let group: ServiceGroup
    let server: Task<Void, any Error>
    let sink: SMTPSink?

    /// The SMTP sink's port, when it runs (`SandboxConfiguration.smtpPort`).
    public var smtpPort: Int? { sink?.port }

    /// Every message the SMTP sink accepted, in order.
    public func mail() -> [SinkMessage] { state.mailbox.all }

    /// Every enrollment change applied so far, in order.
    public func ledger() async -> [LedgerEntry] {
        await state.ledgerEntries()
    }

    /// Registers an account; its pending auto-enroll enrollment_allowed rows become enrollments
    /// (recorded as `auto_enroll`). Returns the course ids enrolled that way.
    @discardableResult
    public func addUser(username: String, email: String, name: String? = nil) async throws -> [String] {
        try await state.registerUser(SandboxSeed.User(username: username, email: email, name: name))
    }

    /// Adds or replaces a course run (enrollments in it are kept).
    public func addCourse(_ course: SandboxSeed.Course) async throws {
        _ = try await state.upsertCourse(course)
    }

    public func addCourse(id: String, modes: [String] = ["audit"], enrollmentOpen: Bool = true, maxEnrollments: Int? = nil) async throws {
        try await addCourse(SandboxSeed.Course(id: id, modes: modes, enrollmentOpen: enrollmentOpen, maxEnrollments: maxEnrollments))
    }

    /// Adds or replaces a WooCommerce order (by `id`); stamps `date_modified_gmt` with now.
    public func addWooOrder(_ order: SandboxJSON) async throws {
        _ = try await state.upsertWooOrder(order)
    }

    /// Adds or replaces many orders at once, keeping the `date_modified_gmt` they carry (now when absent).
    public func addWooOrders(_ orders: [SandboxJSON]) async throws {
        try await state.upsertWooOrders(orders)
    }

    /// Adds or replaces a store webhook (by `id`), as `GET /wp-json/wc/v3/webhooks` lists it.
    public func addWooWebhook(_ webhook: SandboxJSON) async throws {
        try await state.addWooWebhook(webhook)
    }

    /// Makes the store side misbehave: an old store that ignores `modified_after`, or a store that is down
    /// (every store API call answers 503). Nil leaves a setting as it is.
    public func setWooStore(ignoreModifiedAfter: Bool? = nil, down: Bool? = nil) async {
        await state.setWooSettings(ignoreModifiedAfter: ignoreModifiedAfter, down: down)
    }

    /// Adds a refund to an existing order, normalised to WooCommerce's shape; returns it as served.
    @discardableResult
    public func addWooRefund(orderID: Int, refund: SandboxJSON) async throws -> SandboxJSON {
        try await state.addWooRefund(orderID: orderID, refund: refund)
    }

    public func faults() async -> SandboxFaults {
        await state.currentFaults()
    }

    /// Replaces the runtime misbehaviour (fail rate, latency, throttle, fault kinds).
    public func setFaults(_ faults: SandboxFaults) async {
        await state.setFaults(faults)
    }

    public func setFaults(failRate: Double? = nil, latency: Duration? = nil, throttlePerMinute: Int?? = nil, kinds: [SandboxFaultKind]? = nil) async {
        var faults = await state.currentFaults()
        if let failRate { faults.failRate = failRate }
        if let latency { faults.latency = latency }
        if let throttlePerMinute { faults.throttlePerMinute = throttlePerMinute }
        if let kinds { faults.kinds = kinds }
        await state.setFaults(faults)
    }

    /// Revokes every live access token; returns how many.
    @discardableResult
    public func revokeTokens() async -> Int {
        await state.revokeTokens()
    }

    public func stats() async -> SandboxStats {
        await state.currentStats()
    }

    public func enrollment(username: String, courseID: String) async -> SandboxEnrollment? {
        await state.enrollment(username: username, courseID: courseID)
    }

    public func enrollments() async -> [SandboxEnrollment] {
        await state.allEnrollments()
    }

    /// Puts in an enrollment made outside Registrar (creating the account when an email is given and it is
    /// missing): the enrollment calls and the list see it, the ledger and the request counters do not.
    @discardableResult
    public func seedEnrollment(_ enrollment: SandboxSeedEnrollment) async throws -> SandboxEnrollment {
        try await state.seedEnrollmentSummary(enrollment)
    }

    /// Generated learners enrolled in one course outside Registrar, as `seedEnrollment` does for one.
    @discardableResult
    public func seedEnrollments(_ bulk: SandboxBulkEnrollment) async throws -> SandboxBulkEnrollmentResult {
        try await state.seedEnrollments(bulk)
    }

    /// How `GET /api/enrollment/v1/enrollments` pages from now on; nil leaves a setting as it is. A reset
    /// goes back to the configuration's.
    public func setEnrollmentsList(pagination: SandboxPagination? = nil, pageSize: Int? = nil) async {
        await state.setLMSSettings(pagination: pagination, pageSize: pageSize)
    }

    /// Back to the seed: enrollments, allowed rows, ledger, store data, stats, faults and the enrollments
    /// list's paging. Tokens stay valid.
    public func reset() async throws {
        try await state.reset()
    }

    /// Stops listening, lets calls in flight finish (a `.slow` fault included), then returns.
    public func stop() async {
        await sink?.stop()
        await group.triggerGracefulShutdown()
        _ = try? await server.value
    }
}
