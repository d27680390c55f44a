public struct HTTPClientConfiguration: Sendable {
    public var connectTimeout: Duration = .seconds(10)
    /// Whole-request budget, including time queued for a free connection.
    public var totalTimeout: Duration = .seconds(30)
    public var verifyTLS: Bool = true
    /// PEM bundle used instead of the system trust store.
    public var caBundlePath: String? = nil
    /// Cap on open connections, both in total and per host.
    public var maxConnections: Int = 64
    public var userAgent: String = "registrar/0.1"

    public init(
        connectTimeout: Duration = .seconds(10),
        totalTimeout: Duration = .seconds(30),
        verifyTLS: Bool = true,
        caBundlePath: String? = nil,
        maxConnections: Int = 64,
        userAgent: String = "registrar/0.1"
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.verifyTLS = verifyTLS
        self.caBundlePath = caBundlePath
        self.maxConnections = maxConnections
        self.userAgent = userAgent
    }
}
