import OpenEdX
import RegistrarCore
import RegistrarStore

/// `contract.sync`: one contract's codes brought in line with its terms, in one commit (idempotent: a retry or a
/// second sync changes nothing).
public struct ContractSyncHandler: JobHandler {
    let store: any ContractBook

    public init(store: any ContractBook) { self.store = store }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        let payload: ContractSyncPayload
        do { payload = try job.job.decodePayload(ContractSyncPayload.self) } catch {
            return .permanent(reason: "contract.sync payload unreadable: \(error)")
        }
        do {
            let outcome = try await store.syncContract(payload.contractID)
            return .success(detail: "contract \(payload.contractID): \(outcome.summary)", httpStatus: nil)
        } catch let error as ContractError {
            return .permanent(reason: error.description)
        } catch {
            return .transient(reason: "could not sync contract \(payload.contractID): \(error)")
        }
    }
}

/// `clone`: a contract run made in Studio from its source. The target is read first: one that exists (a retry
/// after a timeout, or a clone made by hand) is not cloned again; then its title, pacing and the contract's
/// schedule are set, so the outcome is the same however many attempts it took.
public struct CloneHandler: JobHandler {
    let store: any ContractBook
    let client: OpenEdXClient

    public init(store: any ContractBook, client: OpenEdXClient) {
        self.store = store
        self.client = client
    }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        let payload: ClonePayload
        do { payload = try job.job.decodePayload(ClonePayload.self) } catch {
            return .permanent(reason: "clone payload unreadable: \(error)")
        }
        do {
            guard try await store.cloneTarget(payload.courseID) != nil else {
                return .permanent(reason: "contract run \(payload.courseID) is no longer registered")
            }
        } catch {
            return .transient(reason: "could not read contract run \(payload.courseID): \(error)")
        }
        try? await store.setRunState(payload.courseID, .cloning, error: nil)
        let outcome = await clone(payload)
        switch outcome {
        case .success:
            // The attached learners' enrollments are made with this write: a job that succeeds without it would
            // leave them out.
            do { try await store.setRunState(payload.courseID, .ready, error: nil) } catch {
                return .transient(reason: "\(payload.courseID) is made, but its state could not be recorded: \(error)")
            }
        case .permanent(let reason, _):
            try? await store.setRunState(payload.courseID, .failed, error: reason)
        case .transient(let reason, _, _):
            // Its attempts may run out: the run shows the last error meanwhile.
            try? await store.setRunState(payload.courseID, job.job.attempts >= job.job.maxAttempts ? .failed : .cloning, error: reason)
        }
        return outcome
    }

    private func clone(_ payload: ClonePayload) async -> HandlerOutcome {
        let source = await client.courseRun(payload.sourceID)
        guard case .ok(let sourceRun, _) = source else { return source.handlerOutcome { _ in nil } }
        guard let sourceRun else { return .permanent(reason: "the source run \(payload.sourceID) does not exist in Studio") }
        let existing = await client.courseRun(payload.courseID)
        guard case .ok(let found, _) = existing else { return existing.handlerOutcome { _ in nil } }
        var made = "exists already"
        if found == nil {
            let cloned = await client.cloneCourseRun(source: payload.sourceID, destination: payload.courseID)
            guard case .ok(let result, _) = cloned else { return cloned.handlerOutcome { $0.value } }
            if case .done = result { made = "cloned from \(payload.sourceID)" }
        }
        let terms: ContractTerms?
        do { terms = try await store.cloneTarget(payload.courseID)?.terms } catch {
            return .transient(reason: "could not read contract \(payload.contractID): \(error)")
        }
        let title = sourceRun["title"]?.stringValue ?? payload.courseID
        let schedule = terms.flatMap { terms -> (String, String)? in
            guard let start = terms.start, let end = terms.end else { return nil }
            return (start + "T00:00:00Z", end + "T23:59:59Z")
        }
        let put = await client.putCourseRun(payload.courseID, title: title, pacing: "self_paced", schedule: schedule)
        guard case .ok(_, let status) = put else { return put.handlerOutcome { _ in nil } }
        return .success(detail: "\(payload.courseID) \(made); title, self-paced" + (schedule == nil ? "" : ", the contract's dates"),
                        httpStatus: status)
    }
}
