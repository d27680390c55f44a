import Foundation
import RegistrarCore

/// Organizations and their contracts: terms, runs, learners, and the codes that follow the terms. Every change
/// enqueues one `contract.sync` (none while one is queued: it reads the newest terms when it runs) in the same
/// commit; the sync itself is one commit per contract.
public protocol ContractBook: Sendable {
    /// Throws `ContractError.organizationTaken` when the name or key exists, `.invalid` for a bad key.
    func createOrganization(name: String, key: String) async throws -> Organization
    func organizations() async throws -> [Organization]
    func organization(named name: String) async throws -> Organization?

    /// Registers the contract and enqueues its first sync. Throws `.unknownOrganization`, `.invalid`.
    func createContract(_ contract: NewContract) async throws -> Contract
    /// New terms, audited, and a sync. Throws `.unknownContract`, `.invalid`.
    func modifyContract(_ id: Int64, _ changes: ContractChanges, actor: String) async throws -> Contract
    func contract(_ id: Int64) async throws -> Contract?
    /// Newest first; only one organization's when named.
    func contracts(organization: String?) async throws -> [Contract]

    /// Adds runs: a `clone` job for each run to make (none for one attached as it is), attached learners'
    /// enrollments in runs that are ready, and a sync. Throws `.runOwned` (another contract's run) and
    /// changes nothing then.
    func addCourseware(_ id: Int64, runs: [ContractRunRequest], actor: String) async throws -> [ContractRun]
    /// Detaches runs: their unredeemed codes are voided by the sync; enrollments stay.
    func removeCourseware(_ id: Int64, courses: [String], actor: String) async throws -> [ContractRun]

    func learners(of id: Int64) async throws -> [ContractLearner]
    /// Attaches learners (SSO) and enqueues their enrollment in every ready run of the contract. Returns the
    /// jobs made.
    func attach(_ id: Int64, emails: [String], actor: String) async throws -> [EnqueuedJob]
    /// Detaches learners and enqueues their unenrollment from the contract's runs.
    func detach(_ id: Int64, emails: [String], actor: String) async throws -> [EnqueuedJob]

    /// `contract.sync`: the contract's codes brought in line with its terms (`ContractSync`), in one commit.
    func syncContract(_ id: Int64) async throws -> ContractSyncOutcome

    /// A `clone` job's view of its run: the run and its contract's terms; nil when gone.
    func cloneTarget(_ courseID: String) async throws -> (run: ContractRun, terms: ContractTerms)?
    /// Where a run's clone stands. A run that becomes ready enrolls the contract's attached learners in it.
    func setRunState(_ courseID: String, _ state: ContractRunState, error: String?) async throws
}
