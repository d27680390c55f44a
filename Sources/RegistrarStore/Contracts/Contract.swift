import Foundation
import RegistrarCore

/// A company or school that buys access under contracts.
public struct Organization: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// Goes into contract runs' keys.
    public var key: String
    public var slug: String
    public var createdAt: Date

    public init(id: Int64, name: String, key: String, slug: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.key = key
        self.slug = slug
        self.createdAt = createdAt
    }
}

/// A contract as registered.
public struct NewContract: Sendable {
    public var organizationID: Int64
    public var name: String
    public var description: String?
    public var terms: ContractTerms
    public var createdBy: String

    public init(organizationID: Int64, name: String, description: String? = nil, terms: ContractTerms, createdBy: String) {
        self.organizationID = organizationID
        self.name = name
        self.description = description
        self.terms = terms
        self.createdBy = createdBy
    }
}

/// Changes to a contract's terms; nil leaves a term as it is, `.some(nil)` removes an optional one.
public struct ContractChanges: Sendable {
    public var start: String??
    public var end: String??
    public var maxLearners: Int??
    public var price: Decimal??
    public var currency: String?
    public var active: Bool?
    public var description: String?

    public init(start: String?? = nil, end: String?? = nil, maxLearners: Int?? = nil, price: Decimal?? = nil, currency: String? = nil,
                active: Bool? = nil, description: String? = nil) {
        self.start = start
        self.end = end
        self.maxLearners = maxLearners
        self.price = price
        self.currency = currency
        self.active = active
        self.description = description
    }

    /// The terms after the changes.
    public func applied(to terms: ContractTerms) -> ContractTerms {
        var result = terms
        if let start { result.start = start }
        if let end { result.end = end }
        if let maxLearners { result.maxLearners = maxLearners }
        if let price { result.price = price ?? 0 }
        if let currency { result.currency = currency }
        if let active { result.active = active }
        return result
    }
}

/// Where a contract run is in its making.
public enum ContractRunState: String, Sendable, Codable, CaseIterable {
    /// Waiting for its `clone` job.
    case requested
    case cloning
    case ready
    /// The clone failed for good: replay the job.
    case failed
}

/// A course run that belongs to one contract.
public struct ContractRun: Sendable, Equatable {
    public var courseID: String
    public var contractID: Int64
    /// The run it is cloned from; nil for a run attached as it was.
    public var sourceID: String?
    public var state: ContractRunState
    /// False once removed from the contract.
    public var attached: Bool
    public var error: String?
    public var codes: CodeCounts

    public init(courseID: String, contractID: Int64, sourceID: String?, state: ContractRunState, attached: Bool, error: String?,
                codes: CodeCounts = CodeCounts()) {
        self.courseID = courseID
        self.contractID = contractID
        self.sourceID = sourceID
        self.state = state
        self.attached = attached
        self.error = error
        self.codes = codes
    }
}

/// Codes of a run by state.
public struct CodeCounts: Sendable, Equatable {
    public var active = 0
    public var redeemed = 0
    public var void = 0
    public init(active: Int = 0, redeemed: Int = 0, void: Int = 0) {
        self.active = active
        self.redeemed = redeemed
        self.void = void
    }
}

/// A contract with what `contracts show` lists.
public struct Contract: Sendable, Equatable {
    public var id: Int64
    public var organization: Organization
    public var name: String
    public var slug: String
    public var description: String?
    public var terms: ContractTerms
    /// More learners than the cap (after it was lowered): nobody was removed.
    public var overCap: Bool
    public var learners: Int
    public var runs: [ContractRun]
    public var createdBy: String
    public var createdAt: Date

    public init(id: Int64, organization: Organization, name: String, slug: String, description: String?, terms: ContractTerms,
                overCap: Bool, learners: Int, runs: [ContractRun], createdBy: String, createdAt: Date) {
        self.id = id
        self.organization = organization
        self.name = name
        self.slug = slug
        self.description = description
        self.terms = terms
        self.overCap = overCap
        self.learners = learners
        self.runs = runs
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    public func inForce(at now: Date) -> Bool { terms.inForce(on: ContractTerms.day(now)) }
}

/// A learner of a contract: attached (SSO) or come by one of its codes.
public struct ContractLearner: Sendable, Equatable {
    public var email: String
    /// `attach` or `code`.
    public var source: String
    public var since: Date

    public init(email: String, source: String, since: Date) {
        self.email = email
        self.source = source
        self.since = since
    }
}

/// A run asked for by `contracts courseware`: cloned from a source, or an existing run attached.
public struct ContractRunRequest: Sendable, Equatable {
    public var courseID: String
    public var sourceID: String?

    public init(courseID: String, sourceID: String?) {
        self.courseID = courseID
        self.sourceID = sourceID
    }
}

public enum ContractError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownOrganization(String)
    case organizationTaken(String)
    case unknownContract(Int64)
    /// The run belongs to another contract.
    case runOwned(String, contract: Int64)
    case invalid(String)
    /// Attaching these learners would pass the cap.
    case full(cap: Int, learners: Int, asked: Int)

    public var description: String {
        switch self {
        case .unknownOrganization(let name): "no organization \(name) (create it with --create-org --key KEY, or `registrar orgs create`)"
        case .organizationTaken(let what): "an organization with \(what) exists already"
        case .unknownContract(let id): "no contract \(id)"
        case .runOwned(let run, let contract): "\(run) belongs to contract \(contract)"
        case .invalid(let message): message
        case .full(let cap, let learners, let asked):
            "the contract has \(learners) of its \(cap) learners: \(asked) more would pass its cap (raise it with contracts modify --max-learners)"
        }
    }
}

/// What one `contract.sync` did.
public struct ContractSyncOutcome: Sendable, Equatable {
    public var created = 0
    public var voided = 0
    public var repriced = 0
    public var converted = 0
    public var overCap = false
    public var enrollJobs = 0

    public init() {}

    public var summary: String {
        "\(created) codes made, \(voided) voided, \(repriced) repriced, \(converted) changed kind" + (overCap ? "; over its cap" : "")
            + (enrollJobs > 0 ? "; \(enrollJobs) enrollments of attached learners" : "")
    }
}
