import Foundation
import RegistrarCore
@testable import RegistrarSQLite
import RegistrarStore
import TestSupport

func makeStore(_ dir: TemporaryDirectory, clock: any WallClock = SystemWallClock(), groupCommit: Bool = true,
               busyTimeout: Duration = .seconds(10)) throws -> SQLiteStore {
    let options = StoreOptions(maxAttempts: 5, lease: .seconds(30),
                               retry: RetryRule(backoff: BackoffPolicy(base: .seconds(2), cap: .seconds(60), jitter: 0.1)))
    return try SQLiteStore(path: dir.file("registrar.sqlite"), options: options, groupCommit: groupCommit,
                           busyTimeout: busyTimeout, clock: clock, random: FixedRandom(value: 0.5))
}

func job(_ key: String, kind: JobKind = .enroll, serial: String? = nil) -> NewJob {
    NewJob(kind: kind, dedupeKey: key, serialKey: serial, payload: "{}", source: "test")
}
