import RegistrarStore
import Synchronization

/// What `/readyz` checks: the database takes a write within `timeout`, and the workers are running.
///
/// A probe write cannot be cancelled once it is queued, and on a stuck disk it may never finish. So probes are
/// shared: at most one is in flight, every check waits for it for at most `timeout`, and a check that gives up
/// leaves it running instead of queueing another write behind it. Nothing waits on past `timeout`.
public final class Readiness: Sendable {
    private struct State {
        var probing = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<String?, Never>] = [:]
    }

    private let store: any StoreHealth
    private let workersRunning: @Sendable () -> Bool
    private let timeout: Duration
    private let state = Mutex(State())

    public init(store: any StoreHealth, timeout: Duration = .seconds(3), workersRunning: @escaping @Sendable () -> Bool) {
        self.store = store
        self.timeout = timeout
        self.workersRunning = workersRunning
    }

    /// `nil` when ready, else the reason it is not. Returns within `timeout` whatever the disk does.
    public func problem() async -> String? {
        if !workersRunning() { return "workers are not running (shutting down)" }
        let timeout = self.timeout
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withCheckedContinuation { continuation in
            let startProbe = state.withLock { state -> Bool in
                state.waiters[id] = continuation
                if state.probing { return false }
                state.probing = true
                return true
            }
            if startProbe { Task { await self.probe() } }
            Task {
                try? await Task.sleep(for: timeout)
                self.answer(id, "database did not take a write within \(timeout)")
            }
        }
    }

    private func probe() async {
        let problem: String?
        do {
            try await store.probeWritable()
            problem = nil
        } catch {
            problem = "database not writable: \(error)"
        }
        let waiters = state.withLock { state in
            state.probing = false
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: problem) }
    }

    private func answer(_ id: Int, _ problem: String?) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: problem)
    }
}
