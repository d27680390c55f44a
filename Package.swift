// swift-tools-version:6.0
import PackageDescription

// One module per layer. Data flows intake → store → worker → Open edX; each layer can be read alone.
let package = Package(
    name: "registrar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "registrar", targets: ["registrar"]),
        .executable(name: "registrar-bench", targets: ["RegistrarBench"]),
        // For the libFuzzer harnesses in fuzz/, a package of their own.
        .library(name: "RegistrarCore", targets: ["RegistrarCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Bearer-token authentication and role checks as middleware on route groups.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // Already under Hummingbird; named because the sandbox closes connections itself to inject resets.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Already under Hummingbird; named because the connection-deadline handler sees HTTPTypes request parts.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // The PostgreSQL backend's driver: a connection pool, transactions, LISTEN/NOTIFY, on SwiftNIO.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure core: domain types, configuration, job rules, parsing and verification, the decisions. No I/O.
        .target(
            name: "RegistrarCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The store's seam: protocols named after what callers do, and the values they exchange. No database.
        .target(
            name: "RegistrarStore",
            dependencies: [
                "RegistrarCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The SQLite backend (GRDB over the system libsqlite3): migrations, group commit, every store protocol.
        // The only module that imports GRDB.
        .target(
            name: "RegistrarSQLite",
            dependencies: [
                "RegistrarCore",
                "RegistrarStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The PostgreSQL backend (postgres-nio): migrations under an advisory lock, SKIP LOCKED claims, per-key
        // order across instances. The only module that imports PostgresNIO.
        .target(
            name: "RegistrarPostgres",
            dependencies: [
                "RegistrarCore",
                "RegistrarStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The system libcurl, found through pkg-config; a missing header names the package to install.
        .systemLibrary(
            name: "CLibcurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        // Thin C layer over libcurl: non-variadic wrappers of the variadic curl API.
        .target(
            name: "CCurl",
            dependencies: ["CLibcurl"]
        ),
        // Async HTTP client on libcurl's multi interface, driven from its own thread.
        .target(
            name: "CurlHTTP",
            dependencies: ["CCurl"]
        ),
        // Open edX LMS/Studio client: OAuth2 client credentials, pacing, the calls Registrar makes.
        .target(
            name: "OpenEdX",
            dependencies: [
                "RegistrarCore",
                "CurlHTTP",
            ]
        ),
        // The WooCommerce REST API (refund lines, orders), over the same libcurl client.
        .target(
            name: "WooCommerceClient",
            dependencies: ["RegistrarCore", "CurlHTTP"]
        ),
        // Workers: the pool that claims jobs and runs handlers registered by kind.
        .target(
            name: "RegistrarWorker",
            dependencies: [
                "RegistrarCore",
                "RegistrarStore",
                "CurlHTTP",
                "OpenEdX",
                "WooCommerceClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The Hummingbird server: intake endpoints, the APIs behind token middleware, health, metrics.
        .target(
            name: "RegistrarServer",
            dependencies: [
                "RegistrarCore",
                "RegistrarStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The bundled Open edX (and WooCommerce REST) stand-in used by tests, demo and benchmarks.
        .target(
            name: "Sandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "registrar",
            dependencies: [
                "RegistrarCore",
                "RegistrarStore",
                "RegistrarSQLite",
                "RegistrarPostgres",
                "RegistrarWorker",
                "RegistrarServer",
                "OpenEdX",
                "CurlHTTP",
                "Sandbox",
                "WooCommerceClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // Benchmarks (release build): intake throughput and latency, job drain, queue scaling, memory.
        .executableTarget(
            name: "RegistrarBench",
            dependencies: [
                "RegistrarCore", "RegistrarStore", "RegistrarSQLite",
                "RegistrarPostgres", "RegistrarServer", "RegistrarWorker", "OpenEdX",
                "CurlHTTP", "Sandbox", "WooCommerceClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // What every test target shares: temporary directories, a hand-moved clock, waiting, seeded randomness,
        // the built `registrar` binary and the fixtures.
        .target(
            name: "TestSupport",
            dependencies: ["RegistrarCore"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "RegistrarCoreTests", dependencies: ["RegistrarCore", "TestSupport"]),
        // The store's conformance suite: written once against the protocols, run against every backend.
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: ["RegistrarCore", "RegistrarStore", "RegistrarSQLite", "RegistrarPostgres", "TestSupport"]
        ),
        // What only the SQLite backend has: the group-commit writer, pragmas, indexes, migrations, date text.
        .testTarget(
            name: "RegistrarSQLiteTests",
            dependencies: [
                "RegistrarCore", "RegistrarStore", "RegistrarSQLite", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "RegistrarWorkerTests",
            dependencies: [
                "registrar", "RegistrarCore", "RegistrarStore", "RegistrarSQLite", "RegistrarWorker", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Routes in process through HummingbirdTesting; the end-to-end tests run the real binary.
        .testTarget(
            name: "RegistrarServerTests",
            dependencies: [
                "RegistrarCore", "RegistrarStore", "RegistrarSQLite", "RegistrarServer", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The `registrar` binary as an operator runs it (it depends on the executable so that it is built first).
        .testTarget(
            name: "RegistrarCLITests",
            dependencies: ["registrar", "RegistrarCore", "RegistrarStore", "RegistrarSQLite", "RegistrarPostgres", "TestSupport"]
        ),
        .testTarget(
            name: "CurlHTTPTests",
            dependencies: [
                "CurlHTTP", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "OpenEdXTests",
            dependencies: [
                "OpenEdX", "CurlHTTP", "Sandbox", "RegistrarCore", "RegistrarStore", "RegistrarSQLite", "RegistrarWorker",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // End to end: the real `registrar` process against the sandbox, over loopback.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "registrar", "Sandbox", "CurlHTTP", "RegistrarCore", "RegistrarStore", "RegistrarSQLite", "RegistrarPostgres",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SandboxTests",
            dependencies: [
                "Sandbox",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
