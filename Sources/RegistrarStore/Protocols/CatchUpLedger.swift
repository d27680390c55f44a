import Foundation
import RegistrarCore

/// What WooCommerce catch-up does with the store: hold a store's walk, take each listed order exactly as intake
/// takes a webhook's, and move the store's cursor only past what is committed.
public protocol CatchUpLedger: Sendable {
    /// Starts a walk of `store` for `holder`: takes the store's catch-up lease until `leaseUntil`, creating the
    /// store's state with `initialCursor` the first time. Nil when another holder's lease has not expired: one
    /// catch-up per store at a time, whether a job or an operator runs it.
    func beginCatchUp(store: String, holder: String, leaseUntil: Date, initialCursor: WooModifiedTime) async throws
        -> CatchUpState?

    /// Takes one page of listed orders in one commit: each is decided against its order's memory and recorded,
    /// with its jobs, as `IntakeLedger.recordWooCommerce` records a webhook delivery — except an order whose
    /// listed state intake has already taken (`WooOrderMemory.hasSeen`), which changes nothing and is not
    /// recorded again. Then moves the cursor forward to `cursor` (never back), adds the recovered orders to the
    /// store's count and renews the lease. Throws `CatchUpLeaseLost`, committing nothing, when the lease is no
    /// longer `holder`'s.
    func recordCatchUpPage(store: String, holder: String, orders: [CatchUpOrder], cursor: WooModifiedTime?,
                           leaseUntil: Date) async throws -> [CatchUpOrderOutcome]

    /// What each listed order would do, writing nothing (`--dry-run`): jobs marked `created` are the ones the
    /// order would add.
    func previewCatchUp(_ orders: [CatchUpOrder]) async throws -> [CatchUpOrderOutcome]

    /// Ends `holder`'s walk of `store` with its result and releases the lease.
    func finishCatchUp(store: String, holder: String, result: CatchUpResult) async throws

    /// Every store's catch-up state, by store id.
    func catchUpStates() async throws -> [CatchUpState]

    /// When the store's newest webhook delivery that was not rejected arrived; nil when none is kept.
    func lastWebhook(store: String) async throws -> Date?
}

/// A walk's lease passed to another holder (it expired): nothing of the page was written.
public struct CatchUpLeaseLost: Error, Sendable, CustomStringConvertible {
    public var store: String
    public init(store: String) { self.store = store }
    public var description: String { "the catch-up lease of store \"\(store)\" passed to another holder" }
}

/// One order of a listed page: the delivery to record (source `catch-up`, the order's own bytes) and the parsed
/// order to decide; nil for an element that is not a readable order, recorded as rejected with its reason.
public struct CatchUpOrder: Sendable {
    public var delivery: NewDelivery
    public var intake: WooIntake?

    public init(delivery: NewDelivery, intake: WooIntake?) {
        self.delivery = delivery
        self.intake = intake
    }

    public var order: WooOrder? {
        if case .order(let order)? = intake?.payload { return order }
        return nil
    }
}

/// What one listed order did.
public struct CatchUpOrderOutcome: Sendable {
    public var orderID: Int?
    /// Its state was already taken: nothing decided, nothing recorded.
    public var alreadySeen: Bool
    /// The delivery recorded for it (nil when already seen, and in a preview).
    public var deliveryID: Int64?
    public var decision: WooDecision?
    /// One per job of the decision: created now (or, in a preview, to be created), or found by its dedupe key.
    public var jobs: [EnqueuedJob]
    /// Why an element was recorded as rejected.
    public var rejection: String?

    public init(orderID: Int?, alreadySeen: Bool, deliveryID: Int64?, decision: WooDecision?, jobs: [EnqueuedJob],
                rejection: String? = nil) {
        self.orderID = orderID
        self.alreadySeen = alreadySeen
        self.deliveryID = deliveryID
        self.decision = decision
        self.jobs = jobs
        self.rejection = rejection
    }

    /// The order was recovered: catch-up created jobs no webhook had.
    public var recovered: Bool { jobs.contains(where: \.created) }
}

/// How a walk ended.
public struct CatchUpResult: Sendable {
    public var succeeded: Bool
    /// What went wrong, with the store's status; never the keys.
    public var error: String?
    public var listed: Int
    public var recovered: Int
    public var ignoresModifiedAfter: Bool
    /// Nil when the webhooks could not be read (the previous reading is kept).
    public var webhooks: WooWebhookHealth?

    public init(succeeded: Bool, error: String? = nil, listed: Int, recovered: Int, ignoresModifiedAfter: Bool,
                webhooks: WooWebhookHealth?) {
        self.succeeded = succeeded
        self.error = error
        self.listed = listed
        self.recovered = recovered
        self.ignoresModifiedAfter = ignoresModifiedAfter
        self.webhooks = webhooks
    }
}

/// A store's catch-up, as `registrar woocommerce status` shows it.
public struct CatchUpState: Sendable, Equatable {
    public var store: String
    /// Every order modified up to here is committed; the next walk starts the overlap before it.
    public var cursor: WooModifiedTime?
    public var leaseHolder: String?
    public var leaseExpiresAt: Date?
    public var lastStartedAt: Date?
    public var lastFinishedAt: Date?
    public var lastSucceededAt: Date?
    /// `succeeded` or `failed`; nil before the first walk ends.
    public var lastResult: String?
    public var lastError: String?
    public var lastListed: Int
    public var lastRecovered: Int
    /// Orders catch-up created jobs for, over the store's whole history.
    public var recoveredTotal: Int
    public var ignoresModifiedAfter: Bool
    public var webhooks: WooWebhookHealth?
    public var webhooksCheckedAt: Date?

    public init(store: String, cursor: WooModifiedTime? = nil, leaseHolder: String? = nil, leaseExpiresAt: Date? = nil,
                lastStartedAt: Date? = nil, lastFinishedAt: Date? = nil, lastSucceededAt: Date? = nil,
                lastResult: String? = nil, lastError: String? = nil, lastListed: Int = 0, lastRecovered: Int = 0,
                recoveredTotal: Int = 0, ignoresModifiedAfter: Bool = false, webhooks: WooWebhookHealth? = nil,
                webhooksCheckedAt: Date? = nil) {
        self.store = store
        self.cursor = cursor
        self.leaseHolder = leaseHolder
        self.leaseExpiresAt = leaseExpiresAt
        self.lastStartedAt = lastStartedAt
        self.lastFinishedAt = lastFinishedAt
        self.lastSucceededAt = lastSucceededAt
        self.lastResult = lastResult
        self.lastError = lastError
        self.lastListed = lastListed
        self.lastRecovered = lastRecovered
        self.recoveredTotal = recoveredTotal
        self.ignoresModifiedAfter = ignoresModifiedAfter
        self.webhooks = webhooks
        self.webhooksCheckedAt = webhooksCheckedAt
    }
}
