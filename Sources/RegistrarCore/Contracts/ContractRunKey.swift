/// Which course run a contract's courseware names, and the key of the run made for the contract.
public enum ContractRunKey {
    /// What `contracts courseware ID COURSE` means by COURSE.
    public enum Source: Sendable, Equatable {
        /// Clone this run into a new contract run.
        case clone(source: String, number: String)
        /// Attach this existing run as it is (`--no-create-runs`).
        case existing(String)
    }

    /// A course number (`18.01x`) is `course-v1:{source_org}+18.01x+{source_run}`; a run key is itself. With
    /// `attach`, the key names an existing run. Nil with the reason when COURSE is neither.
    public static func source(_ course: String, sourceOrg: String, sourceRun: String, attach: Bool) -> Result<Source, ContractProblem> {
        if let parts = parts(course) {
            return .success(attach ? .existing(course) : .clone(source: course, number: parts.number))
        }
        if attach { return .failure(.init("--no-create-runs needs run keys (course-v1:ORG+NUM+RUN), not \(course)")) }
        guard isPart(course) else {
            return .failure(.init("\(course) is neither a course number (18.01x) nor a run key (course-v1:ORG+NUM+RUN)"))
        }
        return .success(.clone(source: "course-v1:\(sourceOrg)+\(course)+\(sourceRun)", number: course))
    }

    /// `course-v1:{org_prefix}{org key}+{number}+{year}_C{contract id}`.
    public static func contractRun(orgPrefix: String, orgKey: String, number: String, year: Int, contractID: Int64) -> String {
        "course-v1:\(orgPrefix)\(orgKey)+\(number)+\(year)_C\(contractID)"
    }

    /// The organization, number and run of `course-v1:ORG+NUM+RUN`.
    public static func parts(_ key: String) -> (org: String, number: String, run: String)? {
        guard key.hasPrefix("course-v1:") else { return nil }
        let pieces = key.dropFirst("course-v1:".count).split(separator: "+", omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces.allSatisfy({ isPart(String($0)) }) else { return nil }
        return (String(pieces[0]), String(pieces[1]), String(pieces[2]))
    }

    /// A piece of a course key: letters, digits, `_ . -`, as Open edX allows.
    static func isPart(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100 && text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0))
        }
    }
}

/// Why a contract request is refused, in a sentence naming what is wrong.
public struct ContractProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
