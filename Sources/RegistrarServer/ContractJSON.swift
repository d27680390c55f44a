import Foundation
import RegistrarCore
import RegistrarStore

/// The JSON shape of organizations and contracts, shared by the API and `registrar orgs|contracts --json`.
public enum ContractJSON {
    public static func json(_ org: Organization) -> JSONValue {
        .object(["id": .number(Double(org.id)), "name": .string(org.name), "key": .string(org.key), "slug": .string(org.slug),
                 "created_at": .string(Timestamp.format(org.createdAt))])
    }

    public static func json(_ contract: Contract, now: Date) -> JSONValue {
        let terms = contract.terms
        return .object([
            "id": .number(Double(contract.id)),
            "organization": .string(contract.organization.name),
            "name": .string(contract.name),
            "slug": .string(contract.slug),
            "description": contract.description.map(JSONValue.string) ?? .null,
            "integration": .string(terms.integration.rawValue),
            "start": terms.start.map(JSONValue.string) ?? .null,
            "end": terms.end.map(JSONValue.string) ?? .null,
            "max_learners": terms.maxLearners.map { .number(Double($0)) } ?? .null,
            "price": .string(Money.format(terms.price)),
            "currency": terms.currency.map(JSONValue.string) ?? .null,
            "active": .bool(terms.active),
            "in_force": .bool(contract.inForce(at: now)),
            "over_cap": .bool(contract.overCap),
            "learners": .number(Double(contract.learners)),
            "runs": .array(contract.runs.map { run in
                .object(["course_id": .string(run.courseID), "source_id": run.sourceID.map(JSONValue.string) ?? .null,
                         "state": .string(run.state.rawValue), "attached": .bool(run.attached),
                         "error": run.error.map(JSONValue.string) ?? .null,
                         "codes": .object(["active": .number(Double(run.codes.active)), "redeemed": .number(Double(run.codes.redeemed)),
                                           "void": .number(Double(run.codes.void))])])
            }),
            "created_by": .string(contract.createdBy),
            "created_at": .string(Timestamp.format(contract.createdAt)),
        ])
    }

    public static func json(_ learner: ContractLearner) -> JSONValue {
        .object(["email": .string(learner.email), "source": .string(learner.source), "since": .string(Timestamp.format(learner.since))])
    }

    /// The contract's codes that are not void, as `codes-<id>.csv`.
    public static func codesCSV(_ codes: [CodeRecord], publicURL: String?) -> String {
        ContractCodesCSV.render(codes.filter { $0.state != .void }.sorted { ($0.courseID, $0.createdAt.timeIntervalSince1970) < ($1.courseID, $1.createdAt.timeIntervalSince1970) }
            .map { ContractCodesCSV.Row(code: $0.code, courseID: $0.courseID, unlimited: $0.unlimited, redeemedBy: $0.redemptions.map(\.email)) },
                                publicURL: publicURL)
    }
}
