import Foundation

/// The failures inbox: failed jobs grouped by kind and error, so a hundred learners failed by one outage are
/// one line with a count, not a hundred.
public enum FailureGroups {
    /// Failed jobs with one error: one job, or (counted by the store) `count` of them, the newest `id`.
    public struct Failure: Sendable, Equatable {
        public var id: Int64
        public var kind: String
        public var httpStatus: Int?
        public var error: String?
        public var updatedAt: Date
        public var count: Int
        public var oldest: Date

        public init(id: Int64, kind: String, httpStatus: Int?, error: String?, updatedAt: Date, count: Int = 1, oldest: Date? = nil) {
            self.id = id
            self.kind = kind
            self.httpStatus = httpStatus
            self.error = error
            self.updatedAt = updatedAt
            self.count = count
            self.oldest = oldest ?? updatedAt
        }
    }

    public struct Group: Sendable, Equatable {
        public var kind: String
        public var httpStatus: Int?
        /// The error with what differs from job to job (emails, long numbers) masked.
        public var signature: String
        public var count: Int
        public var oldest: Date
        public var newest: Date
        /// The newest job of the group, to open.
        public var sampleJobID: Int64
    }

    /// Groups by kind, HTTP status and signature; the biggest group first, then the newest.
    public static func group(_ failures: [Failure]) -> [Group] {
        struct Key: Hashable { var kind: String; var status: Int?; var signature: String }
        var groups: [Key: Group] = [:]
        for failure in failures {
            let key = Key(kind: failure.kind, status: failure.httpStatus, signature: signature(failure.error ?? ""))
            if var group = groups[key] {
                group.count += failure.count
                group.oldest = min(group.oldest, failure.oldest)
                group.newest = max(group.newest, failure.updatedAt)
                group.sampleJobID = max(group.sampleJobID, failure.id)
                groups[key] = group
            } else {
                groups[key] = Group(kind: key.kind, httpStatus: key.status, signature: key.signature, count: failure.count,
                                    oldest: failure.oldest, newest: failure.updatedAt, sampleJobID: failure.id)
            }
        }
        return groups.values.sorted { ($0.count, $0.newest, $0.sampleJobID) > ($1.count, $1.newest, $1.sampleJobID) }
    }

    /// An error message with emails and numbers of five digits or more (ids, order numbers) masked, so the same
    /// cause reads the same for every job it failed.
    public static func signature(_ error: String) -> String {
        error.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
            if word.contains("@"), word.contains(".") { return "…@…" }
            var masked = ""
            var digits = ""
            for character in word {
                if character.isASCII, character.isNumber {
                    digits.append(character)
                    continue
                }
                masked += digits.count >= 5 ? "#" : digits
                digits = ""
                masked.append(character)
            }
            return masked + (digits.count >= 5 ? "#" : digits)
        }.joined(separator: " ")
    }
}
