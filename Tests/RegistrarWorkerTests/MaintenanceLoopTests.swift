import Foundation
import Logging
import RegistrarCore
import RegistrarSQLite
import RegistrarStore
import RegistrarWorker
import Synchronization
import TestSupport
import Testing

/// Keeps every log line a test's logger writes.
final class CapturedLog: Sendable {
    let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(log: self) }
    }

    func messages(at level: Logger.Level) -> [String] {
        lines.withLock { $0.filter { $0.level == level }.map(\.message) }
    }

    struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.lines.withLock { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
        }
    }
}

@Suite struct MaintenanceLoopTests {
    func retention(minimumFree: Int64) -> MaintenanceLoop.Retention {
        .init(succeededJobs: .seconds(30 * 86400), deliveries: .seconds(30 * 86400), rejectedDeliveries: .seconds(7 * 86400),
              minimumFreeBytes: minimumFree)
    }

    /// Once a minute the loop prunes the ledger (rejected deliveries first) and checks the disk.
    @Test func aRoundPrunesOldDeliveriesAndWarnsWhenTheDiskRunsLow() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try SQLiteStore(path: dir.file("registrar.sqlite"), options: StoreOptions(jobs: JobsConfig()), clock: clock)
        for _ in 0..<1_500 {
            _ = try await store.recordDelivery(NewDelivery(source: "woocommerce", body: [], verdict: "rejected", httpStatus: 401))
        }
        let kept = try await store.recordDelivery(NewDelivery(source: "woocommerce", body: [], verdict: "ignored", httpStatus: 200))
        clock.advance(8 * 86400)

        let log = CapturedLog()
        // No volume has this much free: the warning must come.
        await MaintenanceLoop(store: store, retention: retention(minimumFree: .max), logger: log.logger).runOnce(prune: true)
        #expect(try await store.deliveries(DeliveryFilter(limit: 10_000)).map(\.id) == [kept])
        #expect(log.messages(at: .info).contains("pruned deliveries"))
        #expect(log.messages(at: .warning).contains { $0.contains("disk is nearly full") })

        let quiet = CapturedLog()
        await MaintenanceLoop(store: store, retention: retention(minimumFree: 0), logger: quiet.logger).runOnce(prune: true)
        #expect(quiet.messages(at: .warning).isEmpty)
        // Without `prune` only the leases are looked at.
        let rescueOnly = CapturedLog()
        await MaintenanceLoop(store: store, retention: retention(minimumFree: .max), logger: rescueOnly.logger).runOnce(prune: false)
        #expect(rescueOnly.messages(at: .warning).isEmpty)
    }
}
