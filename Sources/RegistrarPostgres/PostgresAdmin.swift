import Foundation
import Logging
import PostgresNIO
import RegistrarCore

/// Server-level chores that are not store operations: making an empty database for a test, a benchmark, the demo or
/// `store copy`, and dropping the demo's.
public enum PostgresAdmin {
    /// Creates an empty database named `name` on the server `server` points at (connecting to its database) and
    /// returns the URL of the new one. The name is limited to letters, digits and underscores: it is spliced into
    /// the statement, which takes no parameter there.
    public static func createDatabase(_ name: String, on server: PostgresURL,
                                      logger: Logger = Logger(label: "registrar.postgres")) async throws -> PostgresURL {
        try check(name)
        // template0: nobody is ever connected to it, so creates running side by side do not refuse each other.
        try await run("CREATE DATABASE \"\(name)\" TEMPLATE template0 ENCODING 'UTF8'", on: server, logger: logger)
        var created = server
        created.database = name
        return created
    }

    /// Drops the database `name` (a demo's), disconnecting whoever is still connected to it (PostgreSQL 13+).
    public static func dropDatabase(_ name: String, on server: PostgresURL,
                                    logger: Logger = Logger(label: "registrar.postgres")) async throws {
        try check(name)
        try await run("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)", on: server, logger: logger)
    }

    private static func check(_ name: String) throws {
        guard !name.isEmpty, name.count <= 63,
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }) else {
            throw PostgresURL.Invalid("database name \"\(name)\" must be 1 to 63 letters, digits or underscores")
        }
    }

    /// Runs one statement on the server's own database, on a connection of its own.
    private static func run(_ sql: String, on server: PostgresURL, logger: Logger) async throws {
        var configuration = PostgresClient.Configuration(host: server.host, port: server.port, username: server.user,
                                                         password: server.password, database: server.database, tls: .disable)
        if server.sslMode != .disable {
            var insecure = TLSConfiguration.makeClientConfiguration()
            insecure.certificateVerification = .none
            configuration.tls = server.sslMode == .prefer ? .prefer(insecure) : .require(insecure)
        }
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let running = Task.immediate { await client.run() }
        defer { running.cancel() }
        try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }
}
