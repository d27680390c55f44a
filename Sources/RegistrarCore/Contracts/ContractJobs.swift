import Foundation

extension JobKind {
    /// Brings a contract's codes in line with its terms (`ContractSync`).
    public static let contractSync: JobKind = "contract.sync"
    /// Makes a contract run in Studio from its source run.
    public static let clone: JobKind = "clone"
}

/// What a `contract.sync` job carries: only which contract; the terms are read when it runs, so a queued sync
/// always applies the newest ones.
public struct ContractSyncPayload: Codable, Sendable, Equatable, JobPayload {
    public var contractID: Int64

    public init(contractID: Int64) { self.contractID = contractID }

    enum CodingKeys: String, CodingKey { case contractID = "contract_id" }

    public var json: JSONValue { .object(["contract_id": .number(Double(contractID))]) }
}

/// What a `clone` job carries: the run to make and where from. The schedule is the contract's when it runs.
public struct ClonePayload: Codable, Sendable, Equatable, JobPayload {
    public var contractID: Int64
    public var courseID: String
    public var sourceID: String

    public init(contractID: Int64, courseID: String, sourceID: String) {
        self.contractID = contractID
        self.courseID = courseID
        self.sourceID = sourceID
    }

    enum CodingKeys: String, CodingKey {
        case contractID = "contract_id"
        case courseID = "course_id"
        case sourceID = "source_id"
    }

    public var json: JSONValue {
        .object(["contract_id": .number(Double(contractID)), "course_id": .string(courseID), "source_id": .string(sourceID)])
    }
}

/// The keys of contracts' jobs.
public enum ContractKeys {
    /// One sync at a time per contract, in order.
    public static func serial(contract id: Int64) -> String { "contract:\(id)" }
    public static func sync(contract id: Int64, generation: Int) -> String { "contract:\(id):sync:\(generation)" }
    public static func clone(run courseID: String) -> String { "contract-run:\(courseID):clone" }
    /// An attached learner's enrollment in a contract run, and its undoing. `attachment` tells one attachment from
    /// the next: a learner attached, detached and attached again is enrolled again.
    public static func enroll(contract id: Int64, email: String, run courseID: String, attachment: Int64) -> String {
        "contract:\(id):\(email):\(courseID):enroll:\(attachment)"
    }
    public static func unenroll(contract id: Int64, email: String, run courseID: String, generation: Int) -> String {
        "contract:\(id):\(email):\(courseID):unenroll:\(generation)"
    }
}
