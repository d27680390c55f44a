import Foundation

/// Where a code is in its life. `void` comes from an operator, a refund, an invoice void or a contract change;
/// a one-time code with a redemption is `redeemed`.
public enum CodeState: String, Sendable, Codable, CaseIterable {
    case active, redeemed, void
}

/// What the redemption rule needs to know of a code, read in the transaction that will record the redemption.
public struct CodeFacts: Sendable, Equatable {
    public var state: CodeState
    /// Any number of learners, each once (contract codes); otherwise one learner.
    public var unlimited: Bool
    /// 0 for a code that enrolls at once; above 0 the learner pays first.
    public var price: Decimal
    /// The learners who redeemed it, normalised emails.
    public var redeemedBy: [String]
    /// Learners whose seat is held while they pay (a priced code), holds not yet lapsed.
    public var heldBy: [String]
    /// The contract a contract code follows; nil for any other code.
    public var contract: ContractGate?

    public init(state: CodeState, unlimited: Bool = false, price: Decimal = 0, redeemedBy: [String] = [], heldBy: [String] = []) {
        self.state = state
        self.unlimited = unlimited
        self.price = price
        self.redeemedBy = redeemedBy
        self.heldBy = heldBy
    }
}

/// What a contract code's redemption needs to know of its contract.
public struct ContractGate: Sendable, Equatable {
    /// Active and within its dates today.
    public var inForce: Bool
    public var maxLearners: Int?
    /// Distinct learners of the contract now (attached or redeemed).
    public var learners: Int
    /// This learner is one of them already: another of the contract's codes takes no new place.
    public var isLearner: Bool

    public init(inForce: Bool, maxLearners: Int?, learners: Int, isLearner: Bool) {
        self.inForce = inForce
        self.maxLearners = maxLearners
        self.learners = learners
        self.isLearner = isLearner
    }
}

/// What one learner's redemption of one code comes to.
public enum RedemptionDecision: Sendable, Equatable {
    /// Record the redemption and enqueue the enrollment.
    case redeem
    /// This learner redeemed it already: the same redemption again, not a second seat.
    case alreadyRedeemed
    /// The code has a price: an order to pay comes first, and the seat is held for this learner meanwhile.
    case paymentRequired
    /// This learner's seat is held already for an order not yet paid: that order again, not a second one.
    case paymentPending
    case refused(RedemptionRefusal)
}

public enum RedemptionRefusal: String, Sendable, Equatable {
    /// Another learner has the one seat of this one-time code.
    case spent = "code_spent"
    case void = "code_void"
    /// The contract has as many learners as its cap.
    case contractFull = "contract_full"
    /// The contract is deactivated or outside its dates.
    case contractInactive = "contract_inactive"

    /// For the learner, in words they understand.
    public var message: String {
        switch self {
        case .spent: "this code has already been used by someone else"
        case .void: "this code is no longer valid"
        case .contractFull: "every place of this organization's contract is taken"
        case .contractInactive: "this organization's contract is not in force"
        }
    }
}

/// One learner, one code: the rule, pure, so that every case is a unit test. The store applies it inside the
/// transaction that records the outcome, so two learners racing for a one-time code are decided in turn.
public enum RedemptionRules {
    public static func decide(_ code: CodeFacts, email: String) -> RedemptionDecision {
        if code.redeemedBy.contains(email) { return .alreadyRedeemed }
        if code.state == .void { return .refused(.void) }
        if !code.unlimited, !code.redeemedBy.isEmpty || code.state == .redeemed { return .refused(.spent) }
        if let contract = code.contract {
            if !contract.inForce { return .refused(.contractInactive) }
            if let cap = contract.maxLearners, !contract.isLearner, contract.learners >= cap { return .refused(.contractFull) }
        }
        // A one-time code's seat held for another learner's payment is taken until that hold ends.
        if !code.unlimited, code.heldBy.contains(where: { $0 != email }) { return .refused(.spent) }
        if code.price > 0 { return code.heldBy.contains(email) ? .paymentPending : .paymentRequired }
        return .redeem
    }

    /// A held seat's payment accepted: `.redeem` when the learner still gets the seat. The payment is the
    /// learner's claim whether or not the hold lapsed meanwhile, but not against a seat another learner has
    /// redeemed or holds now (`.refused`: the order needs a person, and a refund).
    public static func completePaid(_ code: CodeFacts, email: String) -> RedemptionDecision {
        var paid = code
        paid.price = 0
        paid.heldBy.removeAll { $0 == email }
        return decide(paid, email: email)
    }

    /// The enrollment job's dedupe key: one per code and learner, so a retried redemption finds the first job.
    public static func enrollKey(code: RegistrationCode, email: String) -> String { "code:\(code.value):\(email)" }

    /// The state a code takes after a redemption.
    public static func stateAfterRedemption(unlimited: Bool) -> CodeState { unlimited ? .active : .redeemed }
}
