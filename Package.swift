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
    ],
    targets: [
        // Pure core: domain types, configuration, job rules, parsing and verification. No I/O.
        .target(
            name: "RegistrarCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The store: GRDB over the system libsqlite3 — migrations, job queue, delivery ledger.
        .target(
            name: "RegistrarStore",
            dependencies: [
                "RegistrarCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Thin C layer over the system libcurl: non-variadic wrappers of the variadic curl API.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
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
                .product(name: "Logging", package: "swift-log"),
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
                "OpenEdX",
                "WooCommerceClient",
                "CurlHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The Hummingbird server: intake endpoints, health, metrics.
        .target(
            name: "RegistrarServer",
            dependencies: [
                "RegistrarCore",
                "RegistrarStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
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
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "registrar",
            dependencies: [
                "RegistrarCore",
                "RegistrarStore",
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
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Benchmarks (release build): intake throughput and latency, job drain, queue scaling, memory.
        .executableTarget(
            name: "RegistrarBench",
            dependencies: [
                "RegistrarCore", "RegistrarStore", "RegistrarServer", "RegistrarWorker", "OpenEdX", "CurlHTTP", "Sandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "RegistrarCoreTests", dependencies: ["RegistrarCore"]),
        .testTarget(name: "RegistrarStoreTests", dependencies: ["RegistrarCore", "RegistrarStore", "RegistrarWorker", "registrar"]),
        .testTarget(
            name: "CurlHTTPTests",
            dependencies: [
                "CurlHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "OpenEdXTests",
            dependencies: [
                "OpenEdX", "CurlHTTP", "Sandbox", "RegistrarCore", "RegistrarStore", "RegistrarWorker",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // End to end: the real `registrar` process against the sandbox, over loopback.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "registrar", "Sandbox", "CurlHTTP", "RegistrarCore", "RegistrarStore",
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
