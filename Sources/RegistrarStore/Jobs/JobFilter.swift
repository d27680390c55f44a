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
    /// A learner's jobs (their serial keys), of `course` when both are given.
    public var email: String?
    /// Jobs of a course run.
    public var course: String?
    /// An order's jobs: "STORE:ORDER" for a WooCommerce order, else a hosted-checkout reference.
    public var order: String?
    /// A WooCommerce store's jobs.
    public var store: String?
    /// The jobs a delivery made.
    public var deliveryID: Int64?
    /// Keyset paging: only jobs with a smaller id (the last id of the page before).
    public var beforeID: Int64?
    /// A course alone is searched among this many newest jobs (nothing indexes jobs by course).
    public static let courseWindow = 100_000
    public var limit: Int

    public init(state: JobState? = nil, kind: JobKind? = nil, text: String? = nil, since: Date? = nil, email: String? = nil,
                course: String? = nil, order: String? = nil, store: String? = nil, deliveryID: Int64? = nil, beforeID: Int64? = nil,
                limit: Int = 50) {
        self.email = email
        self.course = course
        self.order = order
        self.store = store
        self.deliveryID = deliveryID
        self.beforeID = beforeID
        self.state = state
        self.kind = kind
        self.text = text
        self.since = since
        self.limit = limit
    }
}
