import Logging

/// How the sandbox is started. Every field has the value `registrar sandbox` uses by default.
public struct SandboxConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 asks the OS for a free port; `RunningSandbox.port` then tells which one.
    public var port = 18000
    /// The only OAuth client accepted; its tokens act as a global-staff service user.
    public var clientID = "registrar-worker"
    public var clientSecret = "sandbox-secret"
    public var tokenTTL: Duration = .seconds(3600)
    /// Fraction of API calls (not the token endpoint, not `/__sandbox`) that misbehave.
    public var failRate: Double = 0
    /// Added before every API answer.
    public var latency: Duration = .zero
    /// Staff throttle per OAuth client over a sliding 60 s window; nil disables it.
    public var throttlePerMinute: Int? = nil
    /// Which misbehaviours `failRate` draws from, uniformly.
    public var faultKinds: [SandboxFaultKind] = SandboxFaultKind.allCases
    /// How long a `.slow` fault stalls before answering normally.
    public var slowAnswerDelay: Duration = .seconds(3)
    public var seed: SandboxSeed = .init()
    /// Makes the fault draws reproducible; nil draws from the system generator.
    public var randomSeed: UInt64? = nil
    public var wooConsumerKey = "ck_sandbox"
    public var wooConsumerSecret = "cs_sandbox"
    /// The SMTP sink's port (0: any free one); nil runs no sink.
    public var smtpPort: Int? = nil
    /// The store's time zone (minutes east of GMT), in which `modified_after` and the like are read unless
    /// `dates_are_gmt=true`: New York's winter time, so a client that forgets the flag misses five hours.
    public var wooSiteUTCOffsetMinutes = -300
    /// Default page size of `GET /api/enrollment/v1/enrollments` (the LMS uses 100);
    /// a `page_size` query parameter overrides it per request.
    public var enrollmentsPageSize = 100
    /// How `GET /api/enrollment/v1/enrollments` pages: DRF cursors as older releases do, or page numbers as the
    /// newest do. A client following `next` verbatim works with both; `POST /__sandbox/lms/settings` switches
    /// it (and the page size) while the sandbox runs.
    public var enrollmentsPagination: SandboxPagination = .cursor
    public var logger = Logger(label: "registrar.sandbox")

    public init() {}

    public init(
        host: String = "127.0.0.1",
        port: Int = 18000,
        seed: SandboxSeed = .init(),
        failRate: Double = 0,
        latency: Duration = .zero,
        throttlePerMinute: Int? = nil,
        tokenTTL: Duration = .seconds(3600),
        randomSeed: UInt64? = nil
    ) {
        self.host = host
        self.port = port
        self.seed = seed
        self.failRate = failRate
        self.latency = latency
        self.throttlePerMinute = throttlePerMinute
        self.tokenTTL = tokenTTL
        self.randomSeed = randomSeed
    }

    var faults: SandboxFaults {
        SandboxFaults(
            failRate: failRate,
            latency: latency,
            throttlePerMinute: throttlePerMinute,
            kinds: faultKinds,
            slowAnswerDelay: slowAnswerDelay
        )
    }
}

/// The two ways Open edX releases page the enrollments list.
public enum SandboxPagination: String, Codable, Sendable, CaseIterable {
    /// `{next, previous, results}`, `?cursor=` an opaque position (older releases).
    case cursor
    /// DRF's PageNumberPagination as edx's DefaultPagination extends it: `{count, num_pages, current_page, start,
    /// next, previous, results}`, `?page=N` from 1, 404 `{"detail": "Invalid page."}` past the end (the newest).
    case pageNumber = "page_number"
}

/// The ways an API call can be made to fail.
public enum SandboxFaultKind: String, Codable, Sendable, CaseIterable {
    /// 500 with Django's HTML error page; nothing applied.
    case serverError = "500"
    /// 502 with a proxy's HTML page; nothing applied.
    case badGateway = "502"
    /// 503 with a proxy's HTML page; nothing applied.
    case unavailable = "503"
    /// The call is applied, then the connection is reset (RST) without an answer — the case
    /// where only an idempotent retry keeps the ledger right.
    case reset
    /// The call stalls for `slowAnswerDelay`, then is applied and answered normally.
    case slow
}

/// The misbehaviour that can be changed while the sandbox runs.
public struct SandboxFaults: Sendable, Equatable {
    public var failRate: Double
    public var latency: Duration
    public var throttlePerMinute: Int?
    public var kinds: [SandboxFaultKind]
    public var slowAnswerDelay: Duration

    public init(
        failRate: Double = 0,
        latency: Duration = .zero,
        throttlePerMinute: Int? = nil,
        kinds: [SandboxFaultKind] = SandboxFaultKind.allCases,
        slowAnswerDelay: Duration = .seconds(3)
    ) {
        self.failRate = failRate
        self.latency = latency
        self.throttlePerMinute = throttlePerMinute
        self.kinds = kinds
        self.slowAnswerDelay = slowAnswerDelay
    }
}
