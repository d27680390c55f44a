import RegistrarCore
import Testing

/// `database: postgres://…`: what is read from the URL, and what is refused with a reason.
@Suite struct PostgresURLTests {
    @Test func everyPartIsRead() throws {
        let url = try PostgresURL.parse("postgres://reg%40istrar:s3cr%2Ft@db.example.com:6432/registrar_prod?sslmode=verify-full")
        #expect(url == PostgresURL(host: "db.example.com", port: 6432, user: "reg@istrar", password: "s3cr/t",
                                   database: "registrar_prod", sslMode: .verifyFull))
        #expect(!url.description.contains("s3cr"), "the description shows the password")
    }

    @Test func defaultsArePort5432AndPreferredTLS() throws {
        let url = try PostgresURL.parse("postgresql://registrar@localhost/registrar")
        #expect(url.port == 5432 && url.sslMode == .prefer && url.password == nil)
        #expect(PostgresURL.isPostgres("postgresql://x@y/z") && !PostgresURL.isPostgres("registrar.sqlite"))
    }

    @Test(arguments: [
        ("postgres://registrar@/registrar", "no host"),
        ("postgres://db.example.com/registrar", "no user"),
        ("postgres://registrar@db.example.com", "no database"),
        ("postgres://registrar@db.example.com/", "no database"),
        ("postgres://registrar@db.example.com/a/b", "no database"),
        ("postgres://registrar@db.example.com/r?sslmode=sometimes", "sslmode must be one of disable, prefer, require, verify-full"),
        ("postgres://registrar@db.example.com/r?pool=3", "unknown PostgreSQL URL option \"pool\""),
        ("mysql://registrar@db.example.com/r", "is not a postgres://"),
    ])
    func aBadURLIsRefusedWithItsReason(text: String, reason: String) {
        #expect { try PostgresURL.parse(text) } throws: { error in "\(error)".contains(reason) }
    }

    @Test func aPasswordNeverAppearsInARefusalOrARedactedURL() {
        let text = "postgres://registrar:hunter2@db.example.com/r?sslmode=bogus"
        #expect { try PostgresURL.parse(text) } throws: { error in !"\(error)".contains("hunter2") }
        #expect(!PostgresURL.redacted(text).contains("hunter2") && PostgresURL.redacted(text).contains("db.example.com"))
        #expect(!PostgresURL.redacted("mysql://a:hunter2@b/c").contains("hunter2"))
    }
}

/// The `database` key with a PostgreSQL URL in a configuration file.
@Suite struct PostgresConfigTests {
    func load(_ text: String) throws -> RegistrarConfig {
        try ConfigLoader(environment: [:]) { _ in throw PostgresURL.Invalid("no files here") }.load(text: text, file: "test.yaml")
    }

    @Test func aURLIsCheckedWhenTheConfigurationIsLoadedAndShownWithoutItsPassword() throws {
        let config = try load("database: \"postgres://registrar:hunter2@db.example.com/r\"\ndatabase_password_file: /run/pw\n")
        #expect(config.databasePasswordFile == "/run/pw")
        #expect(!config.redactedYAML.contains("hunter2") && config.redactedYAML.contains("db.example.com"))
        #expect(throws: ConfigError.self) { try load("database: \"postgres://db.example.com/r\"\n") }
        do {
            _ = try load("database: \"postgres://db.example.com/r\"\n")
        } catch let error as ConfigError {
            #expect(error.key == "database" && error.problem.contains("no user"))
        }
    }
}
