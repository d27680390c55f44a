import Foundation
import RegistrarCore
import Testing

@Suite struct ConfigTests {
    func load(_ text: String?, env: [String: String] = [:], files: [String: String] = [:]) throws -> RegistrarConfig {
        let loader = ConfigLoader(environment: env) { path in
            guard let content = files[path] else { throw CocoaError(.fileNoSuchFile) }
            return content
        }
        return try loader.load(text: text, file: "test.yaml")
    }

    func problem(_ text: String, env: [String: String] = [:]) -> ConfigError? {
        do { _ = try load(text, env: env); return nil } catch let error as ConfigError { return error } catch { return nil }
    }

    @Test func builtInDefaultsMatchTheInterface() throws {
        let config = try load(nil)
        #expect(config.database == "registrar.sqlite")
        #expect(config.server.port == 8080)
        #expect(config.server.maxBodyBytes == 1_048_576)
        #expect(config.openedx.unknownLearner == .allow)
        #expect(config.openedx.requestsPerMinute == 120)
        #expect(config.openedx.clientSecret == nil)
        #expect(config.jobs == JobsConfig())
        #expect(config.jobs.concurrency == 16 && config.jobs.maxAttempts == 25 && config.jobs.leaseSeconds == 120)
        #expect(config.cybersource.replayWindowSeconds == 900)
        #expect(config.warnings.contains { $0.contains("openedx.client_secret") })
    }

    @Test func readsTheInterfaceExample() throws {
        let config = try load("""
            database: /var/lib/registrar/registrar.sqlite
            server: {host: 0.0.0.0, port: 9000, max_body_bytes: 2048}
            openedx:
              lms_url: https://lms.school.edu/
              client_secret: s3cret
              unknown_learner: wait
              requests_per_minute: 60
            woocommerce:
              stores:
                main:
                  webhook_secret: "wh-secret"
                  url: https://shop.example.com
                  consumer_key: ck_1
                  consumer_secret: cs_1
            catalog:
              - {store: main, product_id: 93, course_id: "course-v1:edX+DemoX+Demo_Course", mode: verified}
              - {sku: "DEMO-1", course_id: "course-v1:edX+DemoX+2026", mode: audit}
            cybersource:
              profiles:
                "0000001": {access_key: "abc", secret_key: "def"}
            jobs: {concurrency: 4, backoff_base_seconds: 0.5}
            """)
        #expect(config.database == "/var/lib/registrar/registrar.sqlite")
        #expect(config.server.host == "0.0.0.0" && config.server.port == 9000)
        #expect(config.openedx.lmsURL == "https://lms.school.edu")
        #expect(config.openedx.clientSecret?.value == "s3cret")
        #expect(config.openedx.unknownLearner == .wait)
        #expect(config.woocommerce.stores["main"]?.webhookSecret.value == "wh-secret")
        #expect(config.woocommerce.stores["main"]?.enrollStatuses == ["processing", "completed"])
        #expect(config.catalog == [
            CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+Demo_Course", mode: "verified"),
            CatalogEntry(sku: "DEMO-1", courseID: "course-v1:edX+DemoX+2026", mode: "audit"),
        ])
        // Quoted, so the leading zeros survive.
        #expect(config.cybersource.profiles["0000001"]?.secretKey.value == "def")
        #expect(config.jobs.concurrency == 4 && config.jobs.backoffBaseSeconds == 0.5)
        #expect(config.warnings.isEmpty)
    }

    @Test func thePublicEndpointsLimitsHaveDefaultsAndAreValidated() throws {
        let defaults = try load(nil)
        #expect(defaults.server.trustedProxies.isEmpty && defaults.server.rejectionsPerMinute == 60)
        #expect(defaults.server.maxConnections == 4096 && defaults.server.headerTimeoutSeconds == 10)
        #expect(defaults.server.bodyTimeoutSeconds == 30 && defaults.server.idleTimeoutSeconds == 75)
        #expect(defaults.deliveries == DeliveriesConfig() && defaults.deliveries.rejectedRetentionDays == 7)
        #expect(defaults.deliveries.retentionDays == 30 && defaults.databaseMinFreeMB == 1024)
        let set = try load("""
            database_min_free_mb: 200
            server: {trusted_proxies: ["127.0.0.1", "10.0.0.0/8", "::1"], rejections_per_minute: 5, max_connections: 100}
            deliveries: {retention_days: 14, rejected_retention_days: 1}
            """)
        #expect(set.server.trustedProxies == ["127.0.0.1", "10.0.0.0/8", "::1"] && set.server.rejectionsPerMinute == 5)
        #expect(set.deliveries.retentionDays == 14 && set.deliveries.rejectedRetentionDays == 1 && set.databaseMinFreeMB == 200)
        let bad = problem("server: {trusted_proxies: [\"10.0.0.0/8\", \"proxy.local\"]}")
        #expect(bad?.key == "server.trusted_proxies" && bad?.description.contains("proxy.local") == true, "\(String(describing: bad))")
        #expect(problem("deliveries: {retension_days: 3}")?.key == "deliveries.retension_days")
    }

    /// Secrets written in the file itself are listed, so a file others can read is warned about; secrets from
    /// the environment or *_file keys are not in the file.
    @Test func inlineSecretsAreListedAndAWorldReadableFileHoldingThemIsWarnedAbout() throws {
        var config = try load("""
            openedx: {client_secret: s3cret}
            woocommerce:
              stores:
                main: {webhook_secret: wh, consumer_secret_file: /run/cs}
            """, env: ["REGISTRAR_WOOCOMMERCE_STORES_MAIN_CONSUMER_KEY": "ck"], files: ["/run/cs": "cs"])
        #expect(config.inlineSecrets.sorted() == ["openedx.client_secret", "woocommerce.stores.main.webhook_secret"])
        config.file = ("/etc/registrar/registrar.yaml", 0o644)
        let warning = try #require(config.warnings.first { $0.contains("registrar.yaml") })
        #expect(warning.contains("openedx.client_secret") && warning.contains("chmod 600"))
        #expect(!warning.contains("s3cret"))
        config.file = ("/etc/registrar/registrar.yaml", 0o640)
        #expect(!config.warnings.contains { $0.contains("registrar.yaml") })
        var clean = try load("openedx: {client_secret_file: /run/cs}\n", files: ["/run/cs": "cs"])
        clean.file = ("/etc/registrar/registrar.yaml", 0o644)
        #expect(clean.inlineSecrets.isEmpty && !clean.warnings.contains { $0.contains("registrar.yaml") })
    }

    @Test func environmentOverridesTheFile() throws {
        let config = try load("openedx: {client_secret: from-file}\njobs: {concurrency: 4}\n",
                              env: ["REGISTRAR_OPENEDX_CLIENT_SECRET": "from-env", "REGISTRAR_JOBS_CONCURRENCY": "7",
                                    "REGISTRAR_DATABASE": "/tmp/x.sqlite"])
        #expect(config.openedx.clientSecret?.value == "from-env")
        #expect(config.jobs.concurrency == 7)
        #expect(config.database == "/tmp/x.sqlite")
    }

    @Test func secretsComeFromFilesNamedByEnvironmentOrKey() throws {
        let files = ["/run/secrets/lms": "lms-secret\n", "/run/secrets/wc": "wc-secret"]
        let viaEnv = try load(nil, env: ["REGISTRAR_OPENEDX_CLIENT_SECRET_FILE": "/run/secrets/lms"], files: files)
        #expect(viaEnv.openedx.clientSecret?.value == "lms-secret")
        let viaKey = try load("woocommerce:\n  stores:\n    main:\n      webhook_secret_file: /run/secrets/wc\n", files: files)
        #expect(viaKey.woocommerce.stores["main"]?.webhookSecret.value == "wc-secret")
        let storeEnv = try load("woocommerce:\n  stores:\n    main: {webhook_secret: a}\n",
                                env: ["REGISTRAR_WOOCOMMERCE_STORES_MAIN_WEBHOOK_SECRET": "b"])
        #expect(storeEnv.woocommerce.stores["main"]?.webhookSecret.value == "b")
    }

    @Test func anEnvironmentSecretOverridesTheFilesFileKey() throws {
        let config = try load("woocommerce:\n  stores:\n    main: {webhook_secret_file: /run/secrets/wc}\n",
                              env: ["REGISTRAR_WOOCOMMERCE_STORES_MAIN_WEBHOOK_SECRET": "from-env"])
        #expect(config.woocommerce.stores["main"]?.webhookSecret.value == "from-env")
        let viaFileVariable = try load("openedx: {client_secret: in-file}\n",
                                       env: ["REGISTRAR_OPENEDX_CLIENT_SECRET_FILE": "/run/secrets/lms"],
                                       files: ["/run/secrets/lms": "from-file-variable\n"])
        #expect(viaFileVariable.openedx.clientSecret?.value == "from-file-variable")
    }

    @Test func missingSecretFileNamesTheKey() {
        #expect(problem("openedx: {client_secret_file: /nope}\n")?.key == "openedx.client_secret_file")
        #expect(problem("openedx: {client_secret_file: /nope}\n")?.problem.contains("cannot read secret file /nope") == true)
    }

    @Test func errorsNameTheKeyAndTheProblem() {
        #expect(problem("jobs: {concurency: 3}")?.key == "jobs.concurency")
        #expect(problem("jobs: {concurency: 3}")?.problem.hasPrefix("unknown key") == true)
        #expect(problem("openedx: {requests_per_minute: fast}")?.description
                == "test.yaml: openedx.requests_per_minute: expected a whole number, got \"fast\" (line 1)")
        #expect(problem("openedx: {unknown_learner: maybe}")?.problem.contains("allow, wait, fail") == true)
        #expect(problem("server: {port: 70000}")?.key == "server.port")
        #expect(problem("openedx: {lms_url: lms.example.com}")?.key == "openedx.lms_url")
        #expect(problem("woocommerce: {stores: {main: {url: https://x.example}}}")?.key == "woocommerce.stores.main.webhook_secret")
        #expect(problem("catalog: [{course_id: x}]")?.key == "catalog[0].product_id")
        #expect(problem("catalog: [{product_id: 3, course_id: x}]")?.key == "catalog[0].store")
        #expect(problem("catalog: [{store: nope, product_id: 3, course_id: x}]")?.problem.contains("nope") == true)
        #expect(problem("jobs: {backoff_base_seconds: 10, backoff_cap_seconds: 5}")?.key == "jobs.backoff_cap_seconds")
        #expect(problem("jobs: [1, 2]")?.key == "jobs")
        #expect(problem("- a\n- b")?.problem == "the top level must be a mapping of keys")
        #expect(problem("jobs: {concurrency: 3")?.problem.hasPrefix("not valid YAML") == true)
        #expect(problem("", env: ["REGISTRAR_JOBS_CONCURRENCY": "many"])?.key == "jobs.concurrency")
    }

    @Test func theDeployExampleIsAValidConfiguration() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("deploy/registrar.example.yaml"), encoding: .utf8)
        let loader = ConfigLoader(environment: [:]) { path in "secret-from-\(path)\n" }
        let config = try loader.load(text: text, file: "registrar.example.yaml")
        #expect(config.openedx.clientSecret?.value == "secret-from-/etc/registrar/openedx-client-secret")
        #expect(config.woocommerce.stores["main"]?.consumerKey?.value == "ck_replace_me")
        #expect(config.catalog.count == 2 && config.cybersource.profiles["0000001"] != nil)
        #expect(config.warnings.isEmpty)
    }

    @Test func renderingRedactsEverySecret() throws {
        let config = try load("""
            openedx: {client_secret: lms-SECRET-1}
            woocommerce: {stores: {main: {webhook_secret: wh-SECRET-2, consumer_key: ck_SECRET-3, consumer_secret: cs_SECRET-4}}}
            cybersource: {profiles: {"0000001": {access_key: public-key, secret_key: cy-SECRET-5}}}
            """)
        let text = config.redactedYAML
        #expect(!text.contains("SECRET"))
        #expect(text.contains("<redacted>"))
        #expect(text.contains("public-key"))
        #expect("\(config.openedx.clientSecret!)" == "<redacted>")
        // What it prints is itself a valid configuration that loads back to the same values (less secrets).
        let reloaded = try load(text)
        #expect(reloaded.woocommerce.stores["main"] != nil)
        #expect(reloaded.jobs == config.jobs && reloaded.server == config.server)
    }

    @Test func catchUpIsOnWhenTheStoreHasItsRESTKeys() throws {
        let config = try load("""
            woocommerce:
              stores:
                main: {webhook_secret: w, url: https://shop.example.com, consumer_key: ck_1, consumer_secret: cs_1}
                tuned:
                  webhook_secret: w
                  url: https://shop2.example.com
                  consumer_key: ck_2
                  consumer_secret: cs_2
                  catch_up: {interval_seconds: 60, overlap_seconds: 120, initial_lookback_hours: 2}
                off: {webhook_secret: w, url: https://shop3.example.com, consumer_key: ck_3, consumer_secret: cs_3, catch_up: {interval_seconds: 0}}
                bare: {webhook_secret: w}
            """)
        let stores = config.woocommerce.stores
        #expect(stores["main"]?.catchUp == CatchUpConfig())
        #expect(stores["main"]?.catchUp.intervalSeconds == 300 && stores["main"]?.catchUp.overlapSeconds == 900)
        #expect(stores["main"]?.catchUp.initialLookbackHours == 24)
        #expect(stores["main"]?.catchUpEnabled == true)
        #expect(stores["tuned"]?.catchUp.intervalSeconds == 60 && stores["tuned"]?.catchUp.overlapSeconds == 120)
        #expect(stores["tuned"]?.catchUp.initialLookbackHours == 2)
        #expect(stores["off"]?.catchUpEnabled == false)
        #expect(stores["bare"]?.catchUpEnabled == false)
        let rendered = config.redactedYAML
        #expect(rendered.contains("catch_up: {interval_seconds: 60, overlap_seconds: 120, initial_lookback_hours: 2}"))
        #expect(rendered.contains("# off: needs url and REST keys"))

        let zeroOverlap = problem("woocommerce: {stores: {main: {webhook_secret: w, catch_up: {overlap_seconds: 0}}}}")
        #expect(zeroOverlap?.description.contains("overlap_seconds") == true)
        let misspelt = problem("woocommerce: {stores: {main: {webhook_secret: w, catch_up: {interval: 5}}}}")
        #expect(misspelt?.description.contains("interval") == true)
    }
}

@Suite struct TimestampTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func parsesWhatOperatorsType() {
        #expect(Timestamp.parse("2h", now: now) == now.addingTimeInterval(-7200))
        #expect(Timestamp.parse("3d", now: now) == now.addingTimeInterval(-3 * 86400))
        #expect(Timestamp.parse("90s", now: now) == now.addingTimeInterval(-90))
        #expect(Timestamp.parse("2026-11-21T10:00:00Z") == Date(timeIntervalSince1970: 1_795_255_200))
        #expect(Timestamp.parse("2026-11-21") == Date(timeIntervalSince1970: 1_795_219_200))
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_255_200)) == "2026-11-21T10:00:00Z")
    }

}
