import Foundation

/// The `registrar` binary built next to the test bundle.
public func registrarBinary() -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // On Linux the test runner is `<build>/registrarPackageTests.xctest`; the binary is beside it.
    if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
    return dir.appendingPathComponent("registrar").path
}

/// The repository's root: this file is at Tests/TestSupport/.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A path under the repository's `fixtures/`.
public func fixturePath(_ path: String) -> String {
    repositoryRoot.appendingPathComponent("fixtures").appendingPathComponent(path).path
}

/// The bytes of a file under `fixtures/`.
public func fixture(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: fixturePath(path))))
}
