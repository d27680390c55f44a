import OpenEdX
import RegistrarCore
import RegistrarStore

/// `enroll`: look the learner up by email, then enroll them in the course run with the paid mode. A learner
/// without an account is handled by `openedx.unknown_learner`.
public struct EnrollHandler: JobHandler {
    let directory: LearnerDirectory
    let client: OpenEdXClient
    let unknownLearner: UnknownLearnerPolicy

    public init(store: any LearnerCache, client: OpenEdXClient, unknownLearner: UnknownLearnerPolicy) {
        directory = LearnerDirectory(store: store, client: client)
        self.client = client
        self.unknownLearner = unknownLearner
    }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        let payload: EnrollPayload
        do { payload = try job.job.decodePayload(EnrollPayload.self) } catch {
            return .permanent(reason: "enroll payload unreadable: \(error)")
        }
        switch await directory.lookup(payload.email) {
        case .failed(let outcome):
            return outcome
        case .noAccount:
            return await handleUnknownLearner(payload)
        case .found(let username, let fromCache):
            let result = await client.enroll(username: username, courseID: payload.courseID, mode: payload.mode,
                                             orderReference: payload.orderReference)
            if case .failed(.permanent(let message), let status) = result, status == 406, fromCache {
                // The cached username is gone from the LMS; look the email up afresh on the next attempt.
                await directory.forget(payload.email)
                return .transient(reason: "cached username \(username) unknown to the LMS (\(message)); looking up again",
                                  httpStatus: status)
            }
            return result.handlerOutcome { info in
                "enrolled \(username) in \(payload.courseID)" + (info?.mode.map { " as \($0)" } ?? "")
            }
        }
    }

    private func handleUnknownLearner(_ payload: EnrollPayload) async -> HandlerOutcome {
        switch unknownLearner {
        case .allow:
            return await client.allowEnrollment(email: payload.email, courseID: payload.courseID).handlerOutcome { result in
                switch result {
                case .done: "no account for \(payload.email) yet: enrollment_allowed created with auto_enroll"
                case .alreadyDone: "no account for \(payload.email) yet: enrollment_allowed already there"
                }
            }
        case .wait:
            return .transient(reason: "no Open edX account for \(payload.email) yet; waiting for the learner to register",
                              httpStatus: 404)
        case .fail:
            return .permanent(reason: "no Open edX account for \(payload.email) (openedx.unknown_learner is fail)",
                              httpStatus: 404)
        }
    }
}
