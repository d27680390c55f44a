/// The effective configuration: the YAML file, then environment overrides, then built-in defaults.
/// See `../shared/design/interface.md` (Configuration) for the file's shape.
public struct RegistrarConfig: Sendable {
    public var database = "registrar.sqlite"
    public var server = ServerConfig()
    public var openedx = OpenEdXConfig()
    public var woocommerce = WooCommerceConfig()
    public var catalog: [CatalogEntry] = []
    public var cybersource = CyberSourceConfig()
    public var jobs = JobsConfig()
    public var logging = LoggingConfig()

    public init() {}
}

public struct ServerConfig: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var maxBodyBytes = 1_048_576
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

    public init(id: String, webhookSecret: Secret) {
        self.id = id
        self.webhookSecret = webhookSecret
    }
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
