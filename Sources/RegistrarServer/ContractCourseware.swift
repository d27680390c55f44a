import Foundation
import RegistrarCore
import RegistrarStore

/// What `contracts courseware` asks for, as runs: course numbers and source keys become contract runs to clone
/// (`ContractRunKey`), run keys with `attach` existing runs. Shared by the CLI and the API.
public enum ContractCourseware {
    public static func requests(_ courses: [String], contract: Contract, config: ContractsConfig, attach: Bool, now: Date)
        -> Result<[ContractRunRequest], ContractProblem> {
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now).year ?? 2000
        var requests: [ContractRunRequest] = []
        for course in courses {
            switch ContractRunKey.source(course, sourceOrg: config.sourceOrg, sourceRun: config.sourceRun, attach: attach) {
            case .failure(let problem): return .failure(problem)
            case .success(.existing(let key)): requests.append(ContractRunRequest(courseID: key, sourceID: nil))
            case .success(.clone(let source, let number)):
                requests.append(ContractRunRequest(
                    courseID: ContractRunKey.contractRun(orgPrefix: config.orgPrefix, orgKey: contract.organization.key, number: number,
                                                         year: year, contractID: contract.id),
                    sourceID: source))
            }
        }
        return .success(requests)
    }
}
