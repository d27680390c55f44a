import OpenEdX
import RegistrarCore
import RegistrarStore

/// `rerun`: a Studio course rerun. The target existing already counts as done (a retried attempt may have
/// created it); its dates are then set explicitly so the result is the same either way.
public struct RerunHandler: JobHandler {
    let client: OpenEdXClient

    public init(client: OpenEdXClient) { self.client = client }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        let payload: RerunPayload
        do { payload = try job.job.decodePayload(RerunPayload.self) } catch {
            return .permanent(reason: "rerun payload unreadable: \(error)")
        }
        let result = await client.rerun(payload)
        guard case .ok(let created, let status) = result else { return result.handlerOutcome { $0.value } }
        if case .alreadyDone(let id) = created, let start = payload.start, let end = payload.end {
            let update = await client.updateCourseRun(id, start: start, end: end)
            guard case .ok = update else { return update.handlerOutcome { _ in nil } }
        }
        return .success(detail: created.value, httpStatus: status)
    }
}
