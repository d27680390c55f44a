import RegistrarStore

/// What `/readyz` checks: the database takes a write within a few seconds, and the workers are running.
public struct Readiness: Sendable {
    public var store: RegistrarStore
    public var workersRunning: @Sendable () -> Bool
    public var timeout: Duration

    public init(store: RegistrarStore, timeout: Duration = .seconds(3), workersRunning: @escaping @Sendable () -> Bool) {
        self.store = store
        self.timeout = timeout
        self.workersRunning = workersRunning
    }

    /// `nil` when ready, else the reason it is not.
    public func problem() async -> String? {
        if !workersRunning() { return "workers are not running (shutting down)" }
        let store = self.store
        let timeout = self.timeout
        // A write stuck behind a lock counts as "not writable": a load balancer must not wait for it.
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await store.probeWritable()
                    return nil
                } catch {
                    return "database not writable: \(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return "database did not take a write within \(timeout)"
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
