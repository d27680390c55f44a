import RegistrarCore

/// A verified, parsed WooCommerce order fact to decide against what the store knows about the order, and to
/// record with its jobs in one commit.
public struct WooIntake: Sendable {
    public var payload: WooPayload
    public var rules: WooIntakeRules
    /// Names the job of a fact that has no identity of its own (an action hook); "" otherwise.
    public var deliveryKey: String
    /// What `rules` decide for `payload` when nothing is known about its order, worked out before the write.
    /// The store uses it as is when the order's memory is indeed empty (a new order, the usual case), so the one
    /// writer does not spend its time mapping lines and encoding payloads.
    public var speculation: WooDecision?
    /// The order's dedupe keys, also worked out before the write (made by the store when nil).
    public var keys: WooOrderKeys?

    public init(payload: WooPayload, rules: WooIntakeRules, deliveryKey: String = "", speculation: WooDecision? = nil,
                keys: WooOrderKeys? = nil) {
        self.payload = payload
        self.rules = rules
        self.deliveryKey = deliveryKey
        self.speculation = speculation
        self.keys = keys
    }

    /// Does the decision-independent work ahead of the write: the empty-memory decision and the order's keys.
    public static func prepared(_ payload: WooPayload, rules: WooIntakeRules, deliveryKey: String = "") -> WooIntake {
        let keys: WooOrderKeys?
        if case .order(let order) = payload { keys = WooOrderKeys(store: rules.store.id, order: order) } else { keys = nil }
        return WooIntake(payload: payload, rules: rules, deliveryKey: deliveryKey,
                         speculation: rules.decide(payload, memory: WooOrderMemory(), deliveryID: deliveryKey), keys: keys)
    }
}

/// What an order fact did: its verdict and jobs, and the delivery that recorded it (if one was recorded).
public struct WooIntakeOutcome: Sendable {
    public var deliveryID: Int64?
    public var decision: WooDecision
    /// One per job of the decision, in its order: created now, or found by its dedupe key.
    public var jobs: [EnqueuedJob]

    public init(deliveryID: Int64?, decision: WooDecision, jobs: [EnqueuedJob]) {
        self.deliveryID = deliveryID
        self.decision = decision
        self.jobs = jobs
    }
}
