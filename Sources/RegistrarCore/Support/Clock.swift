import Foundation

/// Wall-clock time, injectable so that leases, backoff and staleness are tested without sleeping.
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A source of numbers in [0, 1) for jitter, injectable so backoff schedules are deterministic in tests.
public protocol UnitRandomSource: Sendable {
    func next() -> Double
}

public struct SystemUnitRandom: UnitRandomSource {
    public init() {}
    public func next() -> Double { Double.random(in: 0..<1) }
}
