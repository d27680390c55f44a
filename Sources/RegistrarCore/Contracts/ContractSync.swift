import Foundation

/// `contract.sync`: what it takes to bring a contract's codes in line with its terms, as a plan the store
/// applies in one transaction. Pure, and idempotent by construction: planning again after the plan is applied
/// plans nothing. A redeemed code is never voided; nobody is ever removed.
public enum ContractSync {
    /// A code of a contract run that is not void.
    public struct Code: Sendable, Equatable {
        public var id: Int64
        public var code: RegistrationCode
        public var unlimited: Bool
        public var price: Decimal
        public var currency: String?
        public var redeemedBy: [String]

        public init(id: Int64, code: RegistrationCode, unlimited: Bool, price: Decimal, currency: String? = nil, redeemedBy: [String] = []) {
            self.id = id
            self.code = code
            self.unlimited = unlimited
            self.price = price
            self.currency = currency
            self.redeemedBy = redeemedBy
        }

        /// Still open to a new learner: an unredeemed code, or an unlimited one.
        public var redeemable: Bool { unlimited || redeemedBy.isEmpty }
    }

    /// One of the contract's runs, with its codes.
    public struct Run: Sendable, Equatable {
        public var courseID: String
        /// False once removed from the contract (`courseware --remove`).
        public var attached: Bool
        public var codes: [Code]

        public init(courseID: String, attached: Bool = true, codes: [Code] = []) {
            self.courseID = courseID
            self.attached = attached
            self.codes = codes
        }
    }

    /// What changes for one run.
    public struct Change: Sendable, Equatable {
        public var courseID: String
        /// New one-time codes.
        public var create = 0
        /// One new unlimited code.
        public var createUnlimited = false
        /// Unredeemed codes voided, newest first.
        public var void: [RegistrationCode] = []
        /// Unredeemed one-time codes that become unlimited (the cap was removed: they may be handed out already).
        public var makeUnlimited: [RegistrationCode] = []
        /// Unredeemed unlimited codes that become one-time (a cap was set).
        public var makeOneTime: [RegistrationCode] = []
        /// Redeemable codes that take the contract's price.
        public var reprice: [RegistrationCode] = []
        /// Why codes are voided, for the record.
        public var voidReason = ""

        public init(courseID: String) { self.courseID = courseID }

        public var isEmpty: Bool {
            create == 0 && !createUnlimited && void.isEmpty && makeUnlimited.isEmpty && makeOneTime.isEmpty && reprice.isEmpty
        }
    }

    public struct Plan: Sendable, Equatable {
        /// Only runs with something to change.
        public var changes: [Change]
        /// More learners are in than the cap allows: nobody is removed, the contract shows it.
        public var overCap: Bool

        public var isEmpty: Bool { changes.isEmpty }
    }

    /// Whether the contract's runs carry codes at all: a non-SSO contract's learners come by codes; an SSO one's
    /// by `attach`, unless it has a price to collect.
    public static func wantsCodes(_ terms: ContractTerms) -> Bool {
        terms.integration == .nonSSO || terms.price > 0
    }

    public static func plan(terms: ContractTerms, runs: [Run], learners: Int) -> Plan {
        var changes: [Change] = []
        for run in runs {
            var change = Change(courseID: run.courseID)
            let unredeemed = run.codes.filter { $0.redeemedBy.isEmpty }.sorted { $0.id > $1.id }
            var repriced = run.codes.filter(\.redeemable)
            if !run.attached {
                change.void = unredeemed.map(\.code)
                change.voidReason = "\(run.courseID) removed from the contract"
            } else if !wantsCodes(terms) {
                // SSO and free: learners are attached, not given codes. Without a cap nothing limits handed-out
                // codes either, so they go (the only wholesale removal); with one, what exists stays.
                if terms.maxLearners == nil {
                    change.void = unredeemed.map(\.code)
                    change.voidReason = "an SSO contract without a price or a cap takes no codes"
                }
            } else if let cap = terms.maxLearners {
                // Capped: one one-time code per seat. An unredeemed unlimited code counts as a seat to hand out.
                change.makeOneTime = unredeemed.filter(\.unlimited).map(\.code)
                let seats = run.codes.filter { !$0.unlimited || $0.redeemedBy.isEmpty }
                if seats.count < cap {
                    change.create = cap - seats.count
                } else if seats.count > cap {
                    change.void = Array(unredeemed.prefix(seats.count - cap)).map(\.code)
                    change.voidReason = "the contract's cap is now \(cap)"
                    change.makeOneTime.removeAll { change.void.contains($0) }
                }
            } else {
                // Uncapped: one unlimited code; unredeemed one-time codes become unlimited rather than void.
                change.makeUnlimited = unredeemed.filter { !$0.unlimited }.map(\.code)
                if !run.codes.contains(where: { $0.unlimited }) && change.makeUnlimited.isEmpty { change.createUnlimited = true }
            }
            repriced.removeAll { change.void.contains($0.code) }
            // The currency counts only with a price: a free code's currency says nothing.
            change.reprice = repriced.filter { $0.price != terms.price || (terms.price > 0 && $0.currency != terms.currency) }.map(\.code)
            if !change.isEmpty { changes.append(change) }
        }
        let overCap = terms.maxLearners.map { learners > $0 } ?? false
        return Plan(changes: changes, overCap: overCap)
    }
}
