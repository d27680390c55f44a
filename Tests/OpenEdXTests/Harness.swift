import CurlHTTP
import Foundation
import Logging
import OpenEdX
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import RegistrarWorker
import Sandbox
import Synchronization
import TestSupport

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

let demoCourse = "course-v1:edX+DemoX+Demo_Course"

/// Registrar's real pieces — SQLite store, worker pool, handlers, libcurl client — against a real sandbox on
/// loopback. Tests enqueue jobs and then check the sandbox's ledger.
final class Harness: Sendable {
    let sandbox: RunningSandbox
    let store: SQLiteStore
    let http: CurlHTTPClient
    let client: OpenEdXClient
    let pool: WorkerPool
    let dir: TemporaryDirectory
    private let running: Mutex<Task<Void, any Error>?> = Mutex(nil)

    init(unknownLearner: UnknownLearnerPolicy = .allow, requestsPerMinute: Int = 100_000,
         maxAttempts: Int = 10, backoffBase: Duration = .milliseconds(50), clientSecret: String? = nil,
         callTimeout: Duration = .seconds(15), sandbox configure: (inout SandboxConfiguration) -> Void = { _ in }) async throws {
        var configuration = SandboxConfiguration()
        configuration.port = 0
        configuration.logger = quietLogger
        configuration.seed = SandboxSeed(
            users: [.init(username: "ann", email: "ann@example.com"), .init(username: "bob", email: "bob@example.com")],
            courses: [.init(id: demoCourse, modes: ["audit", "verified"]),
                      .init(id: "course-v1:edX+DemoX+2026", modes: ["audit", "verified"])])
        configure(&configuration)
        sandbox = try await Sandbox.start(configuration)
        dir = try TemporaryDirectory()
        let options = StoreOptions(maxAttempts: maxAttempts, lease: .seconds(30),
                                             retry: RetryRule(backoff: BackoffPolicy(base: backoffBase, cap: .milliseconds(400))))
        store = try SQLiteStore(path: dir.path + "/registrar.sqlite", options: options)
        var httpConfiguration = HTTPClientConfiguration()
        httpConfiguration.totalTimeout = callTimeout
        http = CurlHTTPClient(configuration: httpConfiguration)
        let settings = OpenEdXSettings(lmsURL: sandbox.baseURL, studioURL: sandbox.baseURL, clientID: configuration.clientID,
                                       clientSecret: Secret(clientSecret ?? configuration.clientSecret), requestsPerMinute: requestsPerMinute)
        client = OpenEdXClient(settings: settings, http: http)
        var registry = HandlerRegistry()
        registry.register(.enroll, EnrollHandler(store: store, client: client, unknownLearner: unknownLearner))
        registry.register(.unenroll, UnenrollHandler(store: store, client: client))
        registry.register(.rerun, RerunHandler(client: client))
        pool = WorkerPool(store: store, registry: registry, options: .init(concurrency: 4, pollInterval: .milliseconds(100)),
                          logger: quietLogger)
    }

    func startWorkers() {
        let pool = self.pool
        running.withLock { $0 = Task { try await pool.run() } }
    }

    func shutdown() async {
        pool.stop()
        let task = running.withLock { $0 }
        _ = try? await task?.value
        http.shutdown()
        await sandbox.stop()
    }

    @discardableResult
    func enroll(_ email: String, _ course: String = demoCourse, mode: String? = "verified", key: String? = nil) async throws -> Int64 {
        let job = try NewJob(kind: .enroll, dedupeKey: key ?? "enroll:\(email):\(course):\(UUID())",
                             serialKey: SerialKey.enrollment(email: email, courseID: course),
                             payload: EnrollPayload(email: email, courseID: course, mode: mode, orderReference: "727"),
                             source: "test")
        return try await store.enqueue([job]).jobs[0].id
    }

    @discardableResult
    func unenroll(_ email: String, _ course: String = demoCourse) async throws -> Int64 {
        let job = try NewJob(kind: .unenroll, dedupeKey: "unenroll:\(email):\(course):\(UUID())",
                             serialKey: SerialKey.enrollment(email: email, courseID: course),
                             payload: UnenrollPayload(email: email, courseID: course), source: "test")
        return try await store.enqueue([job]).jobs[0].id
    }

    func waitFor(_ id: Int64, _ states: Set<JobState> = [.succeeded, .failed], timeout: Duration = .seconds(20)) async throws -> Job {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let job = try await store.job(id: id), states.contains(job.state) { return job }
            try await Task.sleep(for: .milliseconds(25))
        }
        return try await store.job(id: id)!
    }

    func ledger(_ course: String? = nil) async -> [LedgerEntry] {
        await sandbox.ledger().filter { course == nil || $0.courseID == course }
    }
}
