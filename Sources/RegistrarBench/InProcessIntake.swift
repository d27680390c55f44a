import Foundation
import Logging
import RegistrarCore
import RegistrarServer
import RegistrarSQLite
import RegistrarStore
import ServiceLifecycle

/// Registrar's HTTP intake and store in this process, wired as `serve` wires them, for the run `serve` cannot
/// do: group commit off (`SQLiteStore`'s `groupCommit` has no configuration key). Its "on" twin runs
/// the same way, so the on/off ratio compares like with like. No workers run here: in `serve` they are paced
/// at 120 Open edX calls per minute and cost next to nothing during an intake burst.
final class InProcessIntake: Sendable {
    let store: SQLiteStore
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(store: SQLiteStore, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.store = store
        self.port = port
        self.group = group
        self.task = task
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func start(configText: String, groupCommit: Bool, logger: Logger) async throws -> InProcessIntake {
        let config = try ConfigLoader(environment: [:]).load(text: configText, file: "registrar-bench")
        let metrics = RegistrarMetrics()
        let store = try SQLiteStore(path: config.database, options: StoreOptions(jobs: config.jobs), groupCommit: groupCommit) { batch in
            metrics.groupCommit(batchSize: batch)
        }
        let readiness = Readiness(store: store, workersRunning: { true })
        let server = RegistrarHTTPServer(config: config, store: store, readiness: readiness, metrics: metrics, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = server.application { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw BenchError("the in-process server stopped before listening")
        }
        continuation.finish()
        return InProcessIntake(store: store, port: port, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        try? store.close()
    }
}
