import OpenEdX
import RegistrarCore
import RegistrarStore

/// `unenroll`: a soft unenroll (`is_active: false`, no mode). A learner without an account can only have a
/// pending enrollment_allowed row; that is removed instead.
public struct UnenrollHandler: JobHandler {
    let directory: LearnerDirectory
    let client: OpenEdXClient

    public init(store: any LearnerCache, client: OpenEdXClient) {
        directory = LearnerDirectory(store: store, client: client)
        self.client = client
    }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        let payload: UnenrollPayload
        do { payload = try job.job.decodePayload(UnenrollPayload.self) } catch {
            return .permanent(reason: "unenroll payload unreadable: \(error)")
        }
        switch await directory.lookup(payload.email) {
        case .failed(let outcome):
            return outcome
        case .noAccount:
            return await client.disallowEnrollment(email: payload.email, courseID: payload.courseID).handlerOutcome { result in
                switch result {
                case .done: "no account for \(payload.email): pending enrollment_allowed removed"
                case .alreadyDone: "no account for \(payload.email) and nothing pending: nothing to unenroll"
                }
            }
        case .found(let username, let fromCache):
            let result = await client.unenroll(username: username, courseID: payload.courseID)
            if case .failed(.permanent(let message), let status) = result, status == 406, fromCache {
                await directory.forget(payload.email)
                return .transient(reason: "cached username \(username) unknown to the LMS (\(message)); looking up again",
                                  httpStatus: status)
            }
            return result.handlerOutcome { _ in "unenrolled \(username) from \(payload.courseID)" }
        }
    }
}
