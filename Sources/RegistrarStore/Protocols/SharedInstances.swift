import Foundation

/// Which instance does the once-only chores (pruning) when several `serve` processes share one database. A
/// backend that only one machine uses at a time (SQLite) does not offer it: its one instance always leads.
public protocol Leadership: Sendable {
    /// True while `holder` leads `role`: it takes the lead when nobody holds it or the last holder's term has run
    /// out, and keeps it by asking again before `term` ends. Another instance takes over within a term of the
    /// leader stopping.
    func lead(_ role: String, holder: String, term: Duration) async throws -> Bool
}

/// The Open edX request budget of every instance on one database: slots one `interval` apart across all of them,
/// and a 429's pause that holds every instance back, so N instances together stay under the LMS's throttle.
public protocol SharedPacing: Sendable {
    /// Takes the next free slot (none before a pause ends) and returns how long to wait for it.
    func takeSlot(interval: Duration) async throws -> Duration
    /// Holds back every instance's calls until `duration` from now (a 429's Retry-After).
    func pauseEveryone(for duration: Duration) async throws
}
