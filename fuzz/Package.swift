// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses over RegistrarCore's verification and parsing. Not part of the main build or of CI: they
// are built with -sanitize=fuzzer and run for as long as one cares to (see README.md). CI runs the seeded
// property tests instead (Tests/RegistrarCoreTests/Fuzz*.swift).
let harness: [Target.Dependency] = ["CFuzzerDriver", .product(name: "RegistrarCore", package: "registrar")]

let package = Package(
    name: "registrar-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, because a path dependency's identity is otherwise its directory name, which depends on the clone.
        .package(name: "registrar", path: ".."),
    ],
    targets: [
        // SwiftPM links every executable's `main` to its own entry point (`<module>_main` on Linux), so libFuzzer's
        // `main` cannot be used: each harness's main.swift calls libFuzzer's driver, declared here, instead.
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "FuzzWooCommerce", dependencies: harness),
        .executableTarget(name: "FuzzCyberSource", dependencies: harness),
        .executableTarget(name: "FuzzFormats", dependencies: harness),
    ]
)
