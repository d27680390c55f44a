/// The effective configuration as YAML for `check-config`: every key, secrets shown only as set or not set.
extension RegistrarConfig {
    public var redactedYAML: String {
        var out: [String] = []
        func secret(_ s: Secret?) -> String { s == nil ? "null  # not set" : "\"<redacted>\"" }
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }

        out.append("database: \(quoted(PostgresURL.redacted(database)))")
        if let databasePasswordFile { out.append("database_password_file: \(quoted(databasePasswordFile))") }
        out.append("database_min_free_mb: \(databaseMinFreeMB)")
        out.append("server:")
        out.append("  host: \(quoted(server.host))")
        out.append("  port: \(server.port)")
        out.append("  max_body_bytes: \(server.maxBodyBytes)")
        out.append("  trusted_proxies: \(list(server.trustedProxies))")
        out.append("  public_url: \(server.publicURL.map(quoted) ?? "null  # redeem links in code lists and mail need it")")
        out.append("  rejections_per_minute: \(server.rejectionsPerMinute)")
        out.append("  max_connections: \(server.maxConnections)")
        out.append("  header_timeout_seconds: \(server.headerTimeoutSeconds)")
        out.append("  body_timeout_seconds: \(server.bodyTimeoutSeconds)")
        out.append("  idle_timeout_seconds: \(server.idleTimeoutSeconds)")
        out.append("openedx:")
        out.append("  lms_url: \(quoted(openedx.lmsURL))")
        out.append("  studio_url: \(quoted(openedx.studioURL))")
        out.append("  client_id: \(quoted(openedx.clientID))")
        out.append("  client_secret: \(secret(openedx.clientSecret))")
        out.append("  force_enrollment: \(openedx.forceEnrollment)")
        out.append("  unknown_learner: \(openedx.unknownLearner.rawValue)")
        out.append("  requests_per_minute: \(openedx.requestsPerMinute)")
        out.append("  timeout_seconds: \(openedx.timeoutSeconds)")
        out.append("  ca_bundle: \(openedx.caBundle.map(quoted) ?? "null  # the system's CA store")")
        out.append("woocommerce:")
        if woocommerce.stores.isEmpty {
            out.append("  stores: {}")
        } else {
            out.append("  stores:")
            for (id, store) in woocommerce.stores.sorted(by: { $0.key < $1.key }) {
                out.append("    \(quoted(id)):")
                out.append("      webhook_secret: \(secret(store.webhookSecret))")
                out.append("      url: \(store.url.map(quoted) ?? "null")")
                out.append("      consumer_key: \(secret(store.consumerKey))")
                out.append("      consumer_secret: \(secret(store.consumerSecret))")
                out.append("      enroll_statuses: \(list(store.enrollStatuses))")
                out.append("      unenroll_statuses: \(list(store.unenrollStatuses))")
                out.append("      seats: \(store.seats.rawValue)")
                let catchUp = store.catchUp
                out.append("      catch_up: {interval_seconds: \(catchUp.intervalSeconds), overlap_seconds: \(catchUp.overlapSeconds), "
                           + "initial_lookback_hours: \(catchUp.initialLookbackHours)}"
                           + (store.catchUpEnabled ? "" : "  # off: " + (catchUp.intervalSeconds == 0 ? "interval 0" : "needs url and REST keys")))
            }
        }
        if catalog.isEmpty {
            out.append("catalog: []")
        } else {
            out.append("catalog:")
            for entry in catalog {
                var fields: [String] = []
                if let store = entry.store { fields.append("store: \(quoted(store))") }
                if let product = entry.productID { fields.append("product_id: \(product)") }
                if let variation = entry.variationID { fields.append("variation_id: \(variation)") }
                if let sku = entry.sku { fields.append("sku: \(quoted(sku))") }
                fields.append("course_id: \(quoted(entry.courseID))")
                if let mode = entry.mode { fields.append("mode: \(quoted(mode))") }
                out.append("  - {\(fields.joined(separator: ", "))}")
            }
        }
        out.append("cybersource:")
        if cybersource.profiles.isEmpty {
            out.append("  profiles: {}")
        } else {
            out.append("  profiles:")
            for (id, profile) in cybersource.profiles.sorted(by: { $0.key < $1.key }) {
                out.append("    \(quoted(id)): {access_key: \(quoted(profile.accessKey)), secret_key: \(secret(profile.secretKey))}")
            }
        }
        out.append("  replay_window_seconds: \(cybersource.replayWindowSeconds)")
        out.append("  endpoint: \(quoted(cybersource.endpoint))")
        out.append("jobs:")
        out.append("  concurrency: \(jobs.concurrency)")
        out.append("  max_attempts: \(jobs.maxAttempts)")
        out.append("  backoff_base_seconds: \(jobs.backoffBaseSeconds)")
        out.append("  backoff_cap_seconds: \(jobs.backoffCapSeconds)")
        out.append("  lease_seconds: \(jobs.leaseSeconds)")
        out.append("  retention_days: \(jobs.retentionDays)")
        out.append("  poll_interval_seconds: \(jobs.pollIntervalSeconds)")
        out.append("  shutdown_grace_seconds: \(jobs.shutdownGraceSeconds)")
        out.append("mail:")
        out.append("  smtp_url: \(mail.smtpURL.map(quoted) ?? "null  # mail jobs fail until it is set")")
        out.append("  smtp_tls: \(mail.smtpTLS.rawValue)")
        out.append("  username: \(mail.username.map(quoted) ?? "null")")
        out.append("  password: \(secret(mail.password))")
        out.append("  from: \(quoted(mail.from))")
        out.append("  reply_to: \(mail.replyTo.map(quoted) ?? "null")")
        out.append("codes:")
        out.append("  redeem_failures_per_minute: \(codes.redeemFailuresPerMinute)")
        out.append("orders:")
        out.append("  hold_minutes: \(orders.holdMinutes)")
        out.append("contracts:")
        out.append("  org_prefix: \(quoted(contracts.orgPrefix))")
        out.append("  source_org: \(quoted(contracts.sourceOrg))")
        out.append("  source_run: \(quoted(contracts.sourceRun))")
        out.append("reports:")
        out.append("  staff_emails: [\(reports.staffEmails.map(quoted).joined(separator: ", "))]")
        out.append("console:")
        out.append("  idle_minutes: \(console.idleMinutes)")
        out.append("deliveries:")
        out.append("  retention_days: \(deliveries.retentionDays)")
        out.append("  rejected_retention_days: \(deliveries.rejectedRetentionDays)")
        out.append("logging:")
        out.append("  level: \(logging.level)")
        out.append("  format: \(logging.format.rawValue)")
        return out.joined(separator: "\n") + "\n"
    }

    /// Settings that are allowed but leave part of Registrar unable to work; printed by `check-config` and
    /// logged at start-up.
    public var warnings: [String] {
        var found: [String] = []
        if let file, !inlineSecrets.isEmpty, file.mode & 0o004 != 0 {
            found.append("\(file.path) holds secrets (\(inlineSecrets.joined(separator: ", "))) and every user of this machine "
                         + "can read it: chmod 600 (or 640 for a group), or move them to *_file keys or the environment")
        }
        if openedx.clientSecret == nil {
            found.append("openedx.client_secret is not set (nor REGISTRAR_OPENEDX_CLIENT_SECRET): Open edX jobs will fail until it is")
        }
        for (id, store) in woocommerce.stores.sorted(by: { $0.key < $1.key }) {
            let missing = [("url", store.url == nil), ("consumer_key", store.consumerKey == nil),
                           ("consumer_secret", store.consumerSecret == nil)].filter(\.1).map(\.0)
            if !missing.isEmpty {
                found.append("woocommerce.stores.\(id): \(missing.joined(separator: ", ")) not set: partial refunds cannot be looked up")
            }
        }
        return found
    }
}
