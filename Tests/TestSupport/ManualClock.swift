import Foundation
import RegistrarCore
import Synchronization

/// A wall clock the test moves by hand, so leases, backoff and staleness are tested without sleeping.
public final class ManualClock: WallClock {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }

    public func now() -> Date { current.withLock { $0 } }
    public func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Jitter that is always the same, so backoff schedules are exact.
public struct FixedRandom: UnitRandomSource {
    public var value: Double
    public init(value: Double) { self.value = value }
    public func next() -> Double { value }
}
