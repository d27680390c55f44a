import Foundation
import RegistrarCore

/// Which jobs an operator lists, newest first.
public struct JobFilter: Sendable {
    public var state: JobState?
    public var kind: JobKind?
    /// Matches the job's source, or its dedupe or serial key (a learner's email, an order number).
    public var text: String?
    /// Jobs updated at or after this time.
    public var since: Date?
    public var limit: Int

    public init(state: JobState? = nil, kind: JobKind? = nil, text: String? = nil, since: Date? = nil, limit: Int = 50) {
        self.state = state
        self.kind = kind
        self.text = text
        self.since = since
        self.limit = limit
    }
}
