import RegistrarStore

/// What `/readyz` checks: the database takes a write, and the workers are running.
public struct Readiness: Sendable {
    public var store: RegistrarStore
    public var workersRunning: @Sendable () -> Bool

    public init(store: RegistrarStore, workersRunning: @escaping @Sendable () -> Bool) {
        self.store = store
        self.workersRunning = workersRunning
    }

    /// `nil` when ready, else the reason it is not.
    public func problem() async -> String? {
        do {
            try await store.probeWritable()
        } catch {
            return "database not writable: \(error)"
        }
        if !workersRunning() { return "workers are not running (shutting down)" }
        return nil
    }
}
