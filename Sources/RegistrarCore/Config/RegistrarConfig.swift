/// The effective configuration: the YAML file, then environment overrides, then built-in defaults.
/// See `../shared/design/interface.md` (Configuration) for the file's shape.
public struct RegistrarConfig: Sendable {
    /// An SQLite file's path, or a `postgres://` URL (see `PostgresURL`).
    public var database = "registrar.sqlite"
    /// For a PostgreSQL database whose URL carries no password: a file holding it (else `PGPASSWORD`).
    public var databasePasswordFile: String?
    /// Below this much free space on the database's volume, `serve` logs a warning once a minute.
    public var databaseMinFreeMB = 1024
    public var server = ServerConfig()
    public var openedx = OpenEdXConfig()
    public var woocommerce = WooCommerceConfig()
    public var catalog: [CatalogEntry] = []
    public var cybersource = CyberSourceConfig()
    public var jobs = JobsConfig()
    public var deliveries = DeliveriesConfig()
    public var codes = CodesConfig()
    public var orders = OrdersConfig()
    public var contracts = ContractsConfig()
    public var reports = ReportsConfig()
    public var console = ConsoleConfig()
    public var mail = MailConfig()
    public var logging = LoggingConfig()
    /// Key paths of secrets written inline in the configuration file (not from the environment or a `_file`):
    /// such a file must not be readable by other users.
    public var inlineSecrets: [String] = []
    /// The configuration file and its permission bits, when it was read from one (set by whoever read it).
    public var file: (path: String, mode: UInt32)?

    public init() {}
}

/// `mail`: how Registrar sends mail (codes to buyers, invoices' CSVs).
public struct MailConfig: Sendable {
    /// `smtps://host:465`, or `smtp://host:587` with STARTTLS. Without it mail jobs fail, replayable.
    public var smtpURL: String?
    public var smtpTLS = SMTPTLSPolicy.required
    public var username: String?
    public var password: Secret?
    public var from = "Registrar <no-reply@localhost>"
    public var replyTo: String?

    public init() {}
}

/// `mail.smtp_tls` for an `smtp://` URL.
public enum SMTPTLSPolicy: String, Sendable, CaseIterable {
    /// STARTTLS or no mail: credentials and codes never cross the network in the clear.
    case required
    /// STARTTLS when the server offers it (a relay on the same machine may not).
    case optional
}

/// `codes`: registration codes.
public struct CodesConfig: Sendable, Equatable {
    /// Failed redemptions (unknown, void, spent) per client address per minute; past it the answer is 429
    /// without the code being checked, so codes cannot be guessed at speed.
    public var redeemFailuresPerMinute = 10

    public init() {}
}

/// `contracts`: where contract runs come from and what they are called.
public struct ContractsConfig: Sendable, Equatable {
    /// A contract run's organization is this and the organization's key.
    public var orgPrefix = "UAI_"
    /// A course number N is cloned from `course-v1:{sourceOrg}+N+{sourceRun}`.
    public var sourceOrg = "UAI_SOURCE"
    public var sourceRun = "SOURCE"

    public init() {}
}

/// `reports`: what the finance reports need to know that Registrar does not record.
public struct ReportsConfig: Sendable, Equatable {
    /// Course staff, lower-cased: their enrollments are explained as staff, and their purchases are left out of
    /// `seats_sold_without_staff` (also `--staff FILE`).
    public var staffEmails: [String] = []

    public init() {}
}

/// `console`: the operators' web console under `/console`.
public struct ConsoleConfig: Sendable, Equatable {
    /// A session unused this long is over: its operator signs in again.
    public var idleMinutes = 30

    public init() {}
}

/// `orders`: the hosted checkout's orders.
public struct OrdersConfig: Sendable, Equatable {
    /// A priced code's seat is held this long for the learner's payment; then another learner may take it.
    public var holdMinutes = 30

    public init() {}
}

public struct ServerConfig: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var maxBodyBytes = 1_048_576
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks); anyone else's is ignored.
    public var trustedProxies: [String] = []
    /// How learners and mail links reach this Registrar (`/redeem`), e.g. https://registrar.example.com.
    public var publicURL: String?
    /// Rejected deliveries (bad signature, unknown store, malformed) a client address may make per minute before
    /// it is answered 429 and its rejections are only counted.
    public var rejectionsPerMinute = 60
    /// Concurrent connections; beyond it new ones wait in the kernel's backlog.
    public var maxConnections = 4096
    /// A connection must deliver a request's complete head this long after it opens or after its previous
    /// response (slow-header clients are closed).
    public var headerTimeoutSeconds = 10.0
    /// A request's whole body must arrive within this long of its head.
    public var bodyTimeoutSeconds = 30.0
    /// A kept-alive connection with no request in flight is closed after this long; above the 60 s that proxies
    /// (nginx, load balancers) keep idle upstream connections, so they close first and never reuse a closed one.
    public var idleTimeoutSeconds = 75.0
    public init() {}
}

/// How long the delivery ledger keeps what it recorded.
public struct DeliveriesConfig: Sendable, Equatable {
    /// Deliveries older than this are pruned, unless a job still in the table refers to one.
    public var retentionDays = 30.0
    /// Rejected deliveries (nothing was believed, nothing was done) go sooner.
    public var rejectedRetentionDays = 7.0
    public init() {}
}

public enum UnknownLearnerPolicy: String, Sendable, CaseIterable {
    /// Create an enrollment_allowed row with auto_enroll: the LMS enrolls them when they register.
    case allow
    /// Retry until the account exists.
    case wait
    /// Fail permanently, naming the email, for an operator to handle.
    case fail
}

public struct OpenEdXConfig: Sendable {
    public var lmsURL = "https://lms.example.com"
    public var studioURL = "https://studio.example.com"
    public var clientID = "registrar-worker"
    /// The one key without a default: `check-config` warns, and Open edX jobs fail naming it, until it is set.
    public var clientSecret: Secret?
    public var forceEnrollment = true
    public var unknownLearner = UnknownLearnerPolicy.allow
    public var requestsPerMinute = 120
    public var timeoutSeconds = 30
    public var caBundle: String?
    public init() {}
}

public struct WooCommerceConfig: Sendable {
    public var stores: [String: StoreConfig] = [:]
    public init() {}
}

public struct StoreConfig: Sendable {
    public var id: String
    public var webhookSecret: Secret
    public var url: String?
    public var consumerKey: Secret?
    public var consumerSecret: Secret?
    public var enrollStatuses: [String] = ["processing", "completed"]
    public var unenrollStatuses: [String] = ["refunded"]
    /// What a paid line with `quantity > 1` becomes.
    public var seats = SeatPolicy.codes
    public var catchUp = CatchUpConfig()

    public init(id: String, webhookSecret: Secret) {
        self.id = id
        self.webhookSecret = webhookSecret
    }

    /// Catch-up runs on its own when it can (the REST API's URL and keys are set) and is not turned off.
    public var catchUpEnabled: Bool {
        catchUp.intervalSeconds > 0 && url != nil && consumerKey != nil && consumerSecret != nil
    }
}

/// `woocommerce.stores.<id>.seats`: a line selling several seats.
public enum SeatPolicy: String, Sendable, CaseIterable {
    /// One registration code per seat, for the buyer to hand out; the buyer is not enrolled.
    case codes
    /// The buyer is enrolled once, whatever the quantity (the behaviour before codes).
    case buyer
}

/// `woocommerce.stores.<id>.catch_up`: how often the store's orders are listed to recover lost webhooks.
public struct CatchUpConfig: Sendable, Equatable {
    /// 0 turns the periodic catch-up off (`registrar woocommerce catch-up` still works).
    public var intervalSeconds = 300
    /// Each poll starts this long before the cursor: `modified_after` is strictly after, by the second.
    public var overlapSeconds = 900
    /// Where a store seen for the first time starts: its older orders come in only when an operator asks.
    public var initialLookbackHours = 24

    public init() {}
}

/// One product → course-run mapping. Matches by store + product id (+ variation id), or by SKU.
public struct CatalogEntry: Sendable, Equatable {
    public var store: String?
    public var productID: Int?
    public var variationID: Int?
    public var sku: String?
    public var courseID: String
    public var mode: String?

    public init(store: String? = nil, productID: Int? = nil, variationID: Int? = nil, sku: String? = nil,
                courseID: String, mode: String? = nil) {
        self.store = store
        self.productID = productID
        self.variationID = variationID
        self.sku = sku
        self.courseID = courseID
        self.mode = mode
    }
}

public struct CyberSourceProfile: Sendable {
    public var profileID: String
    public var accessKey: String
    public var secretKey: Secret
    public init(profileID: String, accessKey: String, secretKey: Secret) {
        self.profileID = profileID
        self.accessKey = accessKey
        self.secretKey = secretKey
    }
}

public struct CyberSourceConfig: Sendable {
    public var profiles: [String: CyberSourceProfile] = [:]
    public var replayWindowSeconds = 900
    public var endpoint = "https://testsecureacceptance.cybersource.com/pay"
    public init() {}
}

public struct JobsConfig: Sendable, Equatable {
    public var concurrency = 16
    public var maxAttempts = 25
    public var backoffBaseSeconds = 2.0
    public var backoffCapSeconds = 3600.0
    public var leaseSeconds = 120.0
    /// Succeeded jobs older than this are pruned; failed ones are kept for operators.
    public var retentionDays = 30.0
    /// How often idle workers look for work added by other processes (an operator's replay).
    public var pollIntervalSeconds = 1.0
    /// On SIGTERM, how long running attempts may take to finish before their leases are released.
    public var shutdownGraceSeconds = 20.0
    public init() {}

    public var backoff: BackoffPolicy {
        BackoffPolicy(base: .milliseconds(Int64(backoffBaseSeconds * 1000)),
                      cap: .milliseconds(Int64(backoffCapSeconds * 1000)))
    }
}

public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

public struct LoggingConfig: Sendable, Equatable {
    public var level = "info"
    public var format = LogFormat.text
    public init() {}
}
