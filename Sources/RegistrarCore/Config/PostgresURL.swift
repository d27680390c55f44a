import Foundation

/// Where a PostgreSQL database is, read from `database: postgres://user[:password]@host[:port]/name?sslmode=…`.
/// The password may instead come from `database_password_file` or `PGPASSWORD`, so it need not sit in the config.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP: a server on loopback or a private network.
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not checked.
        case require
        /// TLS with the server's certificate checked against the system's roots and the host name.
        case verifyFull = "verify-full"
    }

    /// What is wrong with a URL; never quotes its password.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String,
                sslMode: SSLMode = .prefer) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// True when `text` names a PostgreSQL database rather than an SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a `postgres://` or `postgresql://` URL; the error names what is wrong (never the password).
    public static func parse(_ text: String) throws(Invalid) -> PostgresURL {
        guard isPostgres(text), let components = URLComponents(string: text) else {
            throw Invalid("\"\(redacted(text))\" is not a postgres://user@host/database URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid("the PostgreSQL URL names no host")
        }
        guard let user = components.user.map({ $0.removingPercentEncoding ?? $0 }), !user.isEmpty else {
            throw Invalid("the PostgreSQL URL names no user (postgres://USER@\(host)/…)")
        }
        let name = String(components.path.drop(while: { $0 == "/" }))
        guard !name.isEmpty, !name.contains("/") else {
            throw Invalid("the PostgreSQL URL names no database (postgres://\(user)@\(host)/NAME)")
        }
        var mode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let parsed = SSLMode(rawValue: value) else {
                    throw Invalid("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                mode = parsed
            default:
                throw Invalid("unknown PostgreSQL URL option \"\(item.name)\" (only sslmode is read)")
            }
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw Invalid("port \(port) is out of range") }
        return PostgresURL(host: host, port: port, user: user,
                           password: components.password.map { $0.removingPercentEncoding ?? $0 },
                           database: name.removingPercentEncoding ?? name, sslMode: mode)
    }

    /// The URL with any password replaced, for logs and error messages.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "xxx"
        return components.string ?? "postgres://…"
    }

    /// The URL as it can be shown: no password.
    public var description: String {
        "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }
}
