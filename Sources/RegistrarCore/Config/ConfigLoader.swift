import Foundation
import Yams

/// Turns configuration text plus the environment into a validated `RegistrarConfig`.
/// Reading the file itself is the caller's job, which keeps this testable without touching disk.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]
    public var readFile: @Sendable (String) throws -> String

    public init(environment: [String: String],
                readFile: @escaping @Sendable (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }) {
        self.environment = environment
        self.readFile = readFile
    }

    /// - Parameters:
    ///   - text: the YAML document, or `nil` to use built-in defaults (no file present).
    ///   - file: the name used in error messages.
    public func load(text: String?, file: String) throws -> RegistrarConfig {
        var root: Node.Mapping?
        if let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let node: Node?
            do { node = try Yams.compose(yaml: text) } catch {
                throw ConfigError(file: file, key: "", problem: "not valid YAML: \(error)")
            }
            if let node {
                guard let mapping = node.mapping else {
                    throw ConfigError(file: file, key: "", problem: "the top level must be a mapping of keys")
                }
                root = mapping
            }
        }
        let reader = ConfigReader(file: file, path: [], mapping: root, environment: environment,
                                  readFile: readFile)
        var config = try read(reader)
        config.inlineSecrets = reader.inlineSecrets.paths
        try reader.finish()
        return config
    }

    private func read(_ r: ConfigReader) throws -> RegistrarConfig {
        var config = RegistrarConfig()
        config.database = try r.string("database", default: config.database)
        if config.database.isEmpty { throw r.error("database", "must name a file") }
        if PostgresURL.isPostgres(config.database) {
            do { _ = try PostgresURL.parse(config.database) } catch { throw r.error("database", error.description) }
        }
        config.databasePasswordFile = try r.optionalString("database_password_file")
        config.databaseMinFreeMB = try r.int("database_min_free_mb", default: config.databaseMinFreeMB, range: 0...(1 << 30))

        let server = try r.child("server")
        config.server.host = try server.string("host", default: config.server.host)
        config.server.port = try server.int("port", default: config.server.port, range: 0...65535)
        config.server.maxBodyBytes = try server.int("max_body_bytes", default: config.server.maxBodyBytes,
                                                    range: 1024...(64 << 20))
        config.server.trustedProxies = try server.stringList("trusted_proxies", default: [])
        config.server.publicURL = try server.url("public_url", default: nil)
        for proxy in config.server.trustedProxies where AddressBlock(proxy) == nil {
            throw server.error("trusted_proxies", "\"\(proxy)\" is not an IP address or CIDR block (like 10.0.0.0/8)")
        }
        config.server.rejectionsPerMinute = try server.int("rejections_per_minute", default: config.server.rejectionsPerMinute,
                                                           range: 1...1_000_000)
        config.server.maxConnections = try server.int("max_connections", default: config.server.maxConnections,
                                                      range: 16...1_000_000)
        config.server.headerTimeoutSeconds = try server.double("header_timeout_seconds",
                                                               default: config.server.headerTimeoutSeconds, minimum: 0.1)
        config.server.bodyTimeoutSeconds = try server.double("body_timeout_seconds",
                                                             default: config.server.bodyTimeoutSeconds, minimum: 0.1)
        config.server.idleTimeoutSeconds = try server.double("idle_timeout_seconds",
                                                             default: config.server.idleTimeoutSeconds, minimum: 0.1)
        try server.finish()

        config.openedx = try readOpenEdX(try r.child("openedx"))
        config.woocommerce = try readWooCommerce(try r.child("woocommerce"))
        config.catalog = try r.sequenceOfMappings("catalog").map(readCatalogEntry)
        for entry in config.catalog {
            if let store = entry.store, config.woocommerce.stores[store] == nil {
                throw ConfigError(file: r.file, key: "catalog",
                                  problem: "entry for \(entry.courseID) names store \"\(store)\", which is not under woocommerce.stores")
            }
        }
        config.cybersource = try readCyberSource(try r.child("cybersource"))
        config.jobs = try readJobs(try r.child("jobs"))
        let codes = try r.child("codes")
        config.codes.redeemFailuresPerMinute = try codes.int("redeem_failures_per_minute",
                                                            default: config.codes.redeemFailuresPerMinute, range: 1...1_000_000)
        try codes.finish()
        let orders = try r.child("orders")
        config.orders.holdMinutes = try orders.int("hold_minutes", default: config.orders.holdMinutes, range: 1...10_080)
        try orders.finish()
        let contracts = try r.child("contracts")
        config.contracts.orgPrefix = try contracts.string("org_prefix", default: config.contracts.orgPrefix)
        config.contracts.sourceOrg = try contracts.string("source_org", default: config.contracts.sourceOrg)
        config.contracts.sourceRun = try contracts.string("source_run", default: config.contracts.sourceRun)
        for (key, value) in [("org_prefix", config.contracts.orgPrefix), ("source_org", config.contracts.sourceOrg),
                             ("source_run", config.contracts.sourceRun)]
        where !value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) || (key != "org_prefix" && value.isEmpty) {
            throw contracts.error(key, "expected letters, digits, \"_\", \".\" or \"-\" (it goes into course keys), got \"\(value)\"")
        }
        try contracts.finish()
        let reports = try r.child("reports")
        config.reports.staffEmails = try reports.stringList("staff_emails", default: []).map { $0.trimmingSpaces.lowercased() }
        if let bad = config.reports.staffEmails.first(where: { !$0.contains("@") }) {
            throw reports.error("staff_emails", "expected email addresses, got \"\(bad)\"")
        }
        try reports.finish()
        let console = try r.child("console")
        config.console.idleMinutes = try console.int("idle_minutes", default: config.console.idleMinutes, range: 1...1_440)
        try console.finish()
        let mail = try r.child("mail")
        config.mail.smtpURL = try mail.optionalString("smtp_url")
        if let url = config.mail.smtpURL, !(url.hasPrefix("smtp://") || url.hasPrefix("smtps://")) || url.count < 9 {
            throw mail.error("smtp_url", "expected smtps://host:465 or smtp://host:587, got \"\(url)\"")
        }
        config.mail.smtpTLS = try mail.choice("smtp_tls", default: config.mail.smtpTLS)
        config.mail.username = try mail.optionalString("username")
        config.mail.password = try mail.secret("password")
        config.mail.from = try mail.string("from", default: config.mail.from)
        config.mail.replyTo = try mail.optionalString("reply_to")
        for (key, value) in [("from", config.mail.from), ("reply_to", config.mail.replyTo ?? "x@y")] where !value.contains("@") {
            throw mail.error(key, "expected an address like \"Registrar <no-reply@example.com>\", got \"\(value)\"")
        }
        try mail.finish()
        let deliveries = try r.child("deliveries")
        config.deliveries.retentionDays = try deliveries.double("retention_days", default: config.deliveries.retentionDays,
                                                                minimum: 1)
        config.deliveries.rejectedRetentionDays = try deliveries.double(
            "rejected_retention_days", default: config.deliveries.rejectedRetentionDays, minimum: 0.01)
        try deliveries.finish()

        let logging = try r.child("logging")
        config.logging.level = try logging.string("level", default: config.logging.level)
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(config.logging.level) else {
            throw logging.error("level", "must be one of \(levels.joined(separator: ", ")), got \"\(config.logging.level)\"")
        }
        config.logging.format = try logging.choice("format", default: config.logging.format)
        try logging.finish()
        return config
    }

    private func readOpenEdX(_ r: ConfigReader) throws -> OpenEdXConfig {
        var c = OpenEdXConfig()
        c.lmsURL = try r.url("lms_url", default: c.lmsURL) ?? c.lmsURL
        c.studioURL = try r.url("studio_url", default: c.studioURL) ?? c.studioURL
        c.clientID = try r.string("client_id", default: c.clientID)
        c.clientSecret = try r.secret("client_secret")
        c.forceEnrollment = try r.bool("force_enrollment", default: c.forceEnrollment)
        c.unknownLearner = try r.choice("unknown_learner", default: c.unknownLearner)
        c.requestsPerMinute = try r.int("requests_per_minute", default: c.requestsPerMinute, range: 1...1_000_000)
        c.timeoutSeconds = try r.int("timeout_seconds", default: c.timeoutSeconds, range: 1...3600)
        c.caBundle = try r.optionalString("ca_bundle")
        try r.finish()
        return c
    }

    private func readWooCommerce(_ r: ConfigReader) throws -> WooCommerceConfig {
        var c = WooCommerceConfig()
        let stores = try r.child("stores")
        for id in stores.childKeys() {
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw stores.error(id, "a store id is used in the webhook URL: use letters, digits, - and _ only")
            }
            let s = try stores.child(id)
            guard let secret = try s.secret("webhook_secret"), !secret.isEmpty else {
                throw s.error("webhook_secret", "is required: every store signs its webhooks")
            }
            var store = StoreConfig(id: id, webhookSecret: secret)
            store.url = try s.url("url", default: nil)
            store.consumerKey = try s.secret("consumer_key")
            store.consumerSecret = try s.secret("consumer_secret")
            store.enrollStatuses = try s.stringList("enroll_statuses", default: store.enrollStatuses)
            store.unenrollStatuses = try s.stringList("unenroll_statuses", default: store.unenrollStatuses)
            let overlap = Set(store.enrollStatuses).intersection(store.unenrollStatuses)
            if let status = overlap.sorted().first {
                throw s.error("unenroll_statuses", "status \"\(status)\" is also an enroll status")
            }
            store.catchUp = try readCatchUp(try s.child("catch_up"))
            store.seats = try s.choice("seats", default: store.seats)
            try s.finish()
            c.stores[id] = store
        }
        try r.finish()
        return c
    }

    private func readCatchUp(_ r: ConfigReader) throws -> CatchUpConfig {
        var c = CatchUpConfig()
        c.intervalSeconds = try r.int("interval_seconds", default: c.intervalSeconds, range: 0...86_400)
        // At least a second: modified_after is strictly after, so orders of the cursor's own second need it.
        c.overlapSeconds = try r.int("overlap_seconds", default: c.overlapSeconds, range: 1...604_800)
        c.initialLookbackHours = try r.int("initial_lookback_hours", default: c.initialLookbackHours, range: 0...8760)
        try r.finish()
        return c
    }

    private func readCatalogEntry(_ r: ConfigReader) throws -> CatalogEntry {
        guard let courseID = try r.optionalString("course_id"), !courseID.isEmpty else {
            throw r.error("course_id", "is required")
        }
        var entry = CatalogEntry(courseID: courseID)
        entry.store = try r.optionalString("store")
        entry.productID = try r.optionalInt("product_id")
        entry.variationID = try r.optionalInt("variation_id")
        entry.sku = try r.optionalString("sku")
        entry.mode = try r.optionalString("mode")
        if entry.productID == nil, entry.sku == nil {
            throw r.error("product_id", "an entry needs product_id (with store) or sku to match order lines")
        }
        if entry.productID != nil, entry.store == nil {
            throw r.error("store", "is required with product_id: product ids are per store")
        }
        try r.finish()
        return entry
    }

    private func readCyberSource(_ r: ConfigReader) throws -> CyberSourceConfig {
        var c = CyberSourceConfig()
        let profiles = try r.child("profiles")
        for id in profiles.childKeys() {
            let p = try profiles.child(id)
            guard let accessKey = try p.optionalString("access_key"), !accessKey.isEmpty else {
                throw p.error("access_key", "is required")
            }
            guard let secret = try p.secret("secret_key"), !secret.isEmpty else {
                throw p.error("secret_key", "is required")
            }
            try p.finish()
            c.profiles[id] = CyberSourceProfile(profileID: id, accessKey: accessKey, secretKey: secret)
        }
        c.replayWindowSeconds = try r.int("replay_window_seconds", default: c.replayWindowSeconds, range: 1...86_400)
        c.endpoint = try r.url("endpoint", default: c.endpoint) ?? c.endpoint
        try r.finish()
        return c
    }

    private func readJobs(_ r: ConfigReader) throws -> JobsConfig {
        var c = JobsConfig()
        c.concurrency = try r.int("concurrency", default: c.concurrency, range: 1...1024)
        c.maxAttempts = try r.int("max_attempts", default: c.maxAttempts, range: 1...1000)
        c.backoffBaseSeconds = try r.double("backoff_base_seconds", default: c.backoffBaseSeconds, minimum: 0.001)
        c.backoffCapSeconds = try r.double("backoff_cap_seconds", default: c.backoffCapSeconds, minimum: 0.001)
        if c.backoffCapSeconds < c.backoffBaseSeconds {
            throw r.error("backoff_cap_seconds", "must not be below backoff_base_seconds (\(c.backoffBaseSeconds))")
        }
        c.leaseSeconds = try r.double("lease_seconds", default: c.leaseSeconds, minimum: 1)
        c.retentionDays = try r.double("retention_days", default: c.retentionDays, minimum: 0)
        c.pollIntervalSeconds = try r.double("poll_interval_seconds", default: c.pollIntervalSeconds, minimum: 0.01)
        c.shutdownGraceSeconds = try r.double("shutdown_grace_seconds", default: c.shutdownGraceSeconds, minimum: 0)
        if c.pollIntervalSeconds > 1 {
            throw r.error("poll_interval_seconds", "must be at most 1: replays by other processes must be seen within a second")
        }
        try r.finish()
        return c
    }
}
