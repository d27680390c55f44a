import Foundation
import Logging
import Sandbox

/// The Open edX stand-in, in this process, on a free loopback port, logging nothing: its own log lines would
/// cost CPU that the measured side then cannot use.
func startSandbox(users: [SandboxSeed.User] = [], courses: [SandboxSeed.Course] = [],
                  latency: Duration = .zero, throttlePerMinute: Int? = nil) async throws -> RunningSandbox {
    var configuration = SandboxConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.latency = latency
    configuration.throttlePerMinute = throttlePerMinute
    configuration.logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
    var seed = SandboxSeed()
    seed.users = users
    seed.courses = courses
    configuration.seed = seed
    return try await Sandbox.start(configuration)
}
