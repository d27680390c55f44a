import Foundation
import GRDB
@testable import RegistrarSQLite
import Testing

@Suite struct StoredDateTests {
    /// The hand-written text must be GRDB's to the character: stored instants are compared as text
    /// (`run_at <= ?`), so one differing digit would make a job due too early or too late.
    @Test func matchesGRDBsStoredText() {
        var generator = SystemRandomNumberGenerator()
        var instants: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.0005), Date(timeIntervalSince1970: 0.0005),
            Date(timeIntervalSince1970: 951_782_400), // 2000-02-29
            Date(timeIntervalSince1970: 4_107_542_399.999), // 2100-02-28 23:59:59.999
            Date(timeIntervalSince1970: 1_800_000_000.9999), Date(timeIntervalSince1970: -2_208_988_800),
            Date(timeIntervalSince1970: 253_402_300_799.999), Date(),
        ]
        for _ in 0..<20_000 {
            instants.append(Date(timeIntervalSince1970: Double.random(in: -2_208_988_800...4_102_444_800, using: &generator)))
        }
        for _ in 0..<5_000 {
            // Around today, where every real instant is, with sub-millisecond fractions.
            instants.append(Date(timeIntervalSinceNow: Double.random(in: -1e8...1e8, using: &generator)))
        }
        var mismatches: [String] = []
        for instant in instants {
            let grdb = String.fromDatabaseValue(instant.databaseValue)
            let ours = StoredDate.text(instant)
            if grdb != ours { mismatches.append("\(instant.timeIntervalSince1970): GRDB \(grdb ?? "nil"), ours \(ours)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ, e.g. \(mismatches.prefix(5))")
    }

    @Test func outsideTheFastRangeFallsBackToGRDB() {
        for instant in [Date(timeIntervalSince1970: -30_000_000_000), Date(timeIntervalSince1970: 300_000_000_000)] {
            #expect(StoredDate.text(instant) == String.fromDatabaseValue(instant.databaseValue))
        }
    }
}
