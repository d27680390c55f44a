import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// The public endpoints tried as an attacker would, through a real `registrar serve`.
@Suite(.serialized) struct HardeningTests {
    /// `serve` with one store and one CyberSource profile, no sandbox: nothing here needs Open edX.
    final class Setup: Sendable {
        let dir: TemporaryDirectory
        let serve: ServeProcess
        let http = CurlHTTPClient()
        let databasePath: String
        let configPath: String

        init(server: String = "", extra: String = "") throws {
            dir = try TemporaryDirectory()
            databasePath = dir.path + "/registrar.sqlite"
            configPath = dir.path + "/registrar.yaml"
            try """
                database: \(databasePath)
                server: {host: 127.0.0.1, port: 0\(server)}
                openedx: {lms_url: http://127.0.0.1:9, client_secret: unused}
                woocommerce:
                  stores:
                    main: {webhook_secret: \(mainSecret)}
                catalog:
                  - {store: main, product_id: 93, course_id: "\(course2026)", mode: audit}
                cybersource:
                  profiles:
                    "\(profileID)": {access_key: access-key-1, secret_key: \(profileSecret)}
                \(extra)
                """.write(toFile: configPath, atomically: true, encoding: .utf8)
            serve = try ServeProcess(configPath: configPath, workingDirectory: dir.path)
        }

        func post(_ path: String, body: [UInt8], headers: HTTPHeaders = [:]) async throws -> (status: Int, text: String) {
            let response = try await http.execute(HTTPRequest(method: "POST", url: serve.baseURL + path, headers: headers, body: body))
            return (response.status, response.bodyText)
        }

        /// The database, its WAL and its shared-memory file.
        func databaseBytes() -> Int {
            [databasePath, databasePath + "-wal", databasePath + "-shm"].reduce(0) { total, file in
                total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
            }
        }

        func stop() {
            #expect(serve.stop() == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))")
            http.shutdown()
        }
    }

    /// 300 posts of 1 MiB from one client, none of them signed: the ledger keeps 4 KiB of each, not the MiB.
    @Test func rejectedMegabytesDoNotFillTheDisk() async throws {
        let setup = try Setup(server: ", rejections_per_minute: 100000")
        let before = setup.databaseBytes()
        let junk = [UInt8](repeating: UInt8(ascii: "A"), count: 1 << 20)
        var statuses: [Int: Int] = [:]
        for index in 0..<300 {
            let path = index.isMultiple(of: 2) ? "/webhooks/woocommerce/main" : "/webhooks/woocommerce/nosuchstore"
            var headers: HTTPHeaders = ["X-WC-Webhook-Topic": "order.updated"]
            headers.set(name: "X-WC-Webhook-Signature", value: "Zm9yZ2Vk")
            statuses[try await setup.post(path, body: junk, headers: headers).status, default: 0] += 1
        }
        #expect(statuses == [401: 150, 404: 150])
        let grown = setup.databaseBytes() - before
        #expect(grown < 5 << 20, "the database grew by \(grown) bytes")
        let store = try openStore(setup.databasePath)
        let kept = try await store.deliveries(DeliveryFilter(verdict: "rejected", limit: 1000))
        #expect(kept.count == 300)
        #expect(kept.allSatisfy { $0.bodySize == 1 << 20 && $0.body.count == 4096 && $0.bodySHA256 == StoredBody.sha256Hex(junk) })
        setup.stop()
    }

    /// Past its budget a client's rejections are answered 429 and not recorded; a signed delivery from the same
    /// client still goes through; another client's budget is its own only when a trusted proxy says so.
    @Test func aClientOverItsRejectionBudgetGets429AndIsNotRecorded() async throws {
        let setup = try Setup(server: ", rejections_per_minute: 5")
        var headers: HTTPHeaders = ["X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": "Zm9yZ2Vk"]
        // Not a trusted proxy: its X-Forwarded-For is not believed, so every post counts against 127.0.0.1.
        headers.set(name: "X-Forwarded-For", value: "198.51.100.7")
        var statuses: [Int] = []
        for _ in 0..<8 { statuses.append(try await setup.post("/webhooks/woocommerce/main", body: Array("{}".utf8), headers: headers).status) }
        #expect(statuses == [401, 401, 401, 401, 401, 429, 429, 429])
        let callback = try await setup.post("/callbacks/cybersource", body: Array("decision=ACCEPT".utf8))
        #expect(callback.status == 429 && callback.text.contains("too_many_rejections"))
        let store = try openStore(setup.databasePath)
        #expect(try await store.deliveries(DeliveryFilter(limit: 100)).count == 5)

        let order = try fixture("woocommerce/order-727-processing.json")
        let signed = try await setup.post("/webhooks/woocommerce/main", body: order, headers: [
            "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": wooSignature(order, secret: mainSecret),
        ])
        #expect(signed.status == 200, "\(signed.text)")
        let metrics = try await setup.http.execute(HTTPRequest(method: "GET", url: setup.serve.baseURL + "/metrics")).bodyText
        #expect(metrics.contains(#"registrar_rejections_limited_total{source="woocommerce"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"registrar_rejections_limited_total{source="cybersource"} 1"#))
        #expect(metrics.contains("registrar_database_bytes "))
        setup.stop()
    }

    @Test func behindATrustedProxyEachForwardedClientHasItsOwnBudget() async throws {
        let setup = try Setup(server: ", rejections_per_minute: 2, trusted_proxies: [127.0.0.1]")
        func post(from client: String) async throws -> Int {
            try await setup.post("/webhooks/woocommerce/main", body: Array("{}".utf8), headers: [
                "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": "Zm9yZ2Vk",
                // What the client claims, then what the proxy saw.
                "X-Forwarded-For": "10.9.9.9, \(client)",
            ]).status
        }
        var statuses: [Int] = []
        for client in ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"] {
            statuses.append(try await post(from: client))
        }
        #expect(statuses == [401, 401, 429, 401, 401])
        #expect(setup.serve.log.contains("client=203.0.113.2"))
        setup.stop()
    }

    /// A body over max_body_bytes is answered 413 and still leaves its row: size and hash, no bytes.
    @Test func anOversizedCallbackIsRecordedWithoutItsBody() async throws {
        let setup = try Setup(server: ", max_body_bytes: 65536")
        let big = [UInt8](repeating: UInt8(ascii: "b"), count: 200_000)
        let answer = try await setup.post("/callbacks/cybersource", body: big,
                                          headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(answer.status == 413, "\(answer.text)")
        let store = try openStore(setup.databasePath)
        let row = try #require(try await store.deliveries(DeliveryFilter(source: "cybersource")).first)
        #expect(row.verdict == "rejected" && row.httpStatus == 413 && row.body.isEmpty)
        #expect(row.bodySize == 200_000 && row.bodySHA256 == StoredBody.sha256Hex(big))
        setup.stop()
    }

    /// A line break in an order email is refused, and nothing an attacker writes starts a log line of its own.
    @Test func logLinesCannotBeForged() async throws {
        let setup = try Setup(extra: "logging: {level: debug}")
        let token = try PaymentSetup.cli(["tokens", "create", "--name", "shop", "--role", "storefront"], config: setup.configPath)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let forged = "2026-12-02T00:00:00+0000 critical registrar: forged"
        let order = try await setup.post("/api/v1/orders", body: Array("""
            {"email": "zoe@example.com\\n\(forged)", "currency": "USD",
             "items": [{"course_id": "\(course2026)", "unit_price": "10.00"}]}
            """.utf8), headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"])
        #expect(order.status == 400 && order.text.contains("line break"), "\(order.text)")
        // A store id with a line break in it reaches the log of a rejected delivery.
        let path = "/webhooks/woocommerce/x%0A2026-12-02T00:00:00+0000%20critical%20registrar:%20forged"
        let rejected = try await setup.post(path, body: Array("{}".utf8))
        #expect(rejected.status == 404)
        try await Task.sleep(for: .milliseconds(200))
        let lines = setup.serve.log.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("2026-12-02T00:00:00") }, "\(setup.serve.log)")
        let log = setup.serve.log
        #expect(log.contains("\\n2026-12-02T00:00:00") || log.contains("%0A2026-12-02T00:00:00"), "the store id is not in the log")
        setup.stop()
    }

    /// Under the common umask 022 the database files are still the owner's only; the config file holding
    /// secrets that everyone can read is warned about.
    @Test func theDatabaseFilesArePrivateAndAReadableConfigIsWarnedAbout() async throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let setup = try Setup()
        let order = try fixture("woocommerce/order-727-processing.json")
        #expect(try await setup.post("/webhooks/woocommerce/main", body: order, headers: [
            "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": wooSignature(order, secret: mainSecret),
        ]).status == 200)
        for file in [setup.databasePath, setup.databasePath + "-wal", setup.databasePath + "-shm"] {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode == 0o600, "\(file) is \(String(mode, radix: 8))")
        }
        #expect(setup.serve.log.contains("every user of this machine can read it"), "\(setup.serve.log.prefix(3000))")
        #expect(!setup.serve.log.contains(mainSecret))
        setup.stop()
        let checked = try await runRegistrar(["check-config", "--config", setup.configPath])
        #expect(checked.output.contains("chmod 600"), "\(checked.output)")
    }
}
