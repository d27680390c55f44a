import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RegistrarCore
import RegistrarServer
import RegistrarSQLite
import RegistrarStore
import TestSupport

/// `RegistrarHTTPServer` on a real SQLite file, driven in process through HummingbirdTesting's router client.
struct ServerHarness {
    static let webhookSecret = "server-test-secret"

    let dir: TemporaryDirectory
    let store: SQLiteStore
    let config: RegistrarConfig
    let server: RegistrarHTTPServer

    /// - Parameter health: what `/readyz` probes, given the store (the store itself unless a test wraps it).
    /// - Parameter clock: the server's; a fixed one keeps a per-minute budget from straddling two minutes.
    init(busyTimeout: Duration = .seconds(10), health: (SQLiteStore) -> any StoreHealth = { $0 },
         readinessTimeout: Duration = .seconds(3), clock: any WallClock = SystemWallClock()) throws {
        dir = try TemporaryDirectory(prefix: "registrar-server")
        let path = dir.file("registrar.sqlite")
        config = try ConfigLoader(environment: [:]).load(text: """
            database: \(path)
            woocommerce:
              stores:
                main: {webhook_secret: \(Self.webhookSecret)}
            catalog:
              - {store: main, product_id: 93, course_id: "course-v1:edX+DemoX+2026", mode: audit}
            cybersource:
              profiles:
                "p1": {access_key: ak, secret_key: sk}
            """, file: "(test)")
        store = try SQLiteStore(path: path, options: StoreOptions(jobs: config.jobs), busyTimeout: busyTimeout)
        let readiness = Readiness(store: health(store), timeout: readinessTimeout, workersRunning: { true })
        server = RegistrarHTTPServer(config: config, store: store, clock: clock, readiness: readiness, metrics: RegistrarMetrics(),
                                     logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await server.application().test(.router) { client in try await body(client) }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue? { JSONValue.parse(text) }
}

func bearer(_ token: String) -> HTTPFields {
    var fields = HTTPFields()
    fields[.authorization] = "Bearer \(token)"
    return fields
}
