// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses over RegistrarCore's verification and parsing. Not part of the main build or of CI: they
// are built with -sanitize=fuzzer and run for as long as one cares to (see README.md). CI runs the seeded
// property tests instead (Tests/RegistrarCoreTests/Fuzz*.swift).
let package = Package(
    name: "registrar-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, because a path dependency's identity is otherwise its directory name, which depends on the clone.
        .package(name: "registrar", path: ".."),
    ],
    targets: [
        .executableTarget(name: "FuzzWooCommerce", dependencies: [.product(name: "RegistrarCore", package: "registrar")]),
        .executableTarget(name: "FuzzCyberSource", dependencies: [.product(name: "RegistrarCore", package: "registrar")]),
        .executableTarget(name: "FuzzFormats", dependencies: [.product(name: "RegistrarCore", package: "registrar")]),
    ]
)
