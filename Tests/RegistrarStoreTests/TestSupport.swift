import Foundation
import RegistrarCore
import RegistrarStore
import Synchronization

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// A clock the test moves by hand.
final class ManualClock: WallClock {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }
    func now() -> Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

struct FixedRandom: UnitRandomSource {
    var value: Double
    func next() -> Double { value }
}

func makeStore(_ dir: TemporaryDirectory, clock: any WallClock = SystemWallClock(), maxAttempts: Int = 5,
               lease: Duration = .seconds(30), base: Duration = .seconds(2), cap: Duration = .seconds(60),
               groupCommit: Bool = true) throws -> RegistrarStore {
    var options = RegistrarStore.Options(maxAttempts: maxAttempts, lease: lease,
                                         retry: RetryRule(backoff: BackoffPolicy(base: base, cap: cap, jitter: 0.1)))
    options.groupCommit = groupCommit
    return try RegistrarStore(path: dir.file("registrar.sqlite"), options: options, clock: clock,
                              random: FixedRandom(value: 0.5))
}

func job(_ key: String, kind: JobKind = .enroll, serial: String? = nil, payload: String = "{}") -> NewJob {
    NewJob(kind: kind, dedupeKey: key, serialKey: serial, payload: payload, source: "test")
}
