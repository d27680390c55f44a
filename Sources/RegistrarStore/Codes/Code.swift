import Foundation
import RegistrarCore

/// Codes to make for one source (an order line, an invoice, a contract).
public struct NewCodes: Sendable {
    public var count: Int
    public var courseID: String
    public var mode: String?
    /// `order`, `invoice` or `contract`.
    public var source: String
    /// Which one: `<store>:<order>:<line>`, an order reference, an invoice or contract id.
    public var sourceReference: String
    public var unlimited: Bool
    public var price: Decimal
    public var currency: String?

    public init(count: Int, courseID: String, mode: String?, source: String, sourceReference: String, unlimited: Bool = false,
                price: Decimal = 0, currency: String? = nil) {
        self.count = count
        self.courseID = courseID
        self.mode = mode
        self.source = source
        self.sourceReference = sourceReference
        self.unlimited = unlimited
        self.price = price
        self.currency = currency
    }
}

/// A code as the store keeps it, with its redemptions.
public struct CodeRecord: Sendable, Equatable {
    public struct Redemption: Sendable, Equatable {
        public var email: String
        public var at: Date
        /// The enroll job it enqueued.
        public var jobID: Int64?

        public init(email: String, at: Date, jobID: Int64?) {
            self.email = email
            self.at = at
            self.jobID = jobID
        }
    }

    public var code: RegistrationCode
    public var courseID: String
    public var mode: String?
    public var source: String
    public var sourceReference: String
    public var unlimited: Bool
    public var price: Decimal
    public var currency: String?
    public var state: CodeState
    public var createdAt: Date
    public var voidReason: String?
    public var voidedAt: Date?
    public var voidedBy: String?
    public var redemptions: [Redemption]

    public init(code: RegistrationCode, courseID: String, mode: String?, source: String, sourceReference: String,
                unlimited: Bool, price: Decimal, currency: String?, state: CodeState, createdAt: Date, voidReason: String? = nil,
                voidedAt: Date? = nil, voidedBy: String? = nil, redemptions: [Redemption] = []) {
        self.code = code
        self.courseID = courseID
        self.mode = mode
        self.source = source
        self.sourceReference = sourceReference
        self.unlimited = unlimited
        self.price = price
        self.currency = currency
        self.state = state
        self.createdAt = createdAt
        self.voidReason = voidReason
        self.voidedAt = voidedAt
        self.voidedBy = voidedBy
        self.redemptions = redemptions
    }

    public var facts: CodeFacts {
        CodeFacts(state: state, unlimited: unlimited, price: price, redeemedBy: redemptions.map(\.email))
    }
}

/// Which codes an operator lists, newest first.
public struct CodeFilter: Sendable {
    public var courseID: String?
    public var source: String?
    public var sourceReference: String?
    public var state: CodeState?
    /// Only codes whose course id starts with one of these (a scoped token's view); nil means all.
    public var coursePrefixes: [String]?
    public var limit: Int

    public init(courseID: String? = nil, source: String? = nil, sourceReference: String? = nil, state: CodeState? = nil,
                coursePrefixes: [String]? = nil, limit: Int = 1000) {
        self.courseID = courseID
        self.source = source
        self.sourceReference = sourceReference
        self.state = state
        self.coursePrefixes = coursePrefixes
        self.limit = limit
    }
}

/// What a redemption came to.
public enum RedemptionOutcome: Sendable, Equatable {
    /// Recorded now, with the enroll job it enqueued.
    case redeemed(CodeRecord, jobID: Int64)
    /// This learner had redeemed it already: the same redemption.
    case alreadyRedeemed(CodeRecord, jobID: Int64?)
    /// The code has a price: the order the learner pays it with (new, or the one already held for them), the
    /// seat held meanwhile; nil when no checkout is configured (nothing recorded).
    case paymentRequired(CodeRecord, order: Order?)
    case refused(RedemptionRefusal, CodeRecord)
    case unknownCode
}

/// What revoking a learner's seat came to.
public enum RevokeOutcome: Sendable, Equatable {
    /// The code voided (if it was not) and the learner's unenroll enqueued.
    case revoked(CodeRecord, unenrollJobID: Int64)
    /// That learner never redeemed this code.
    case notRedeemedBy(CodeRecord)
    case unknownCode
}

/// How a priced code's seat is paid for: the order is made and the seat held in the redemption's commit.
public struct CodeCheckout: Sendable {
    /// The CyberSource profile the order is signed for.
    public var profileID: String
    /// How long the seat waits for the payment (`orders.hold_minutes`).
    public var hold: TimeInterval
    /// Who asks (a storefront token's name), so that token may read the order; nil for the `/redeem` page.
    public var createdBy: String?
    public var newReference: @Sendable () -> String

    public init(profileID: String, hold: TimeInterval, createdBy: String? = nil,
                newReference: @escaping @Sendable () -> String = OrderRequestRules.newReference) {
        self.profileID = profileID
        self.hold = hold
        self.createdBy = createdBy
        self.newReference = newReference
    }
}
