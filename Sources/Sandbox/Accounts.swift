import Foundation

extension SandboxState {
    /// `GET /api/user/v1/accounts?email=…` (or `?username=a,b`): a list of accounts, or 404 with
    /// an empty body when none matches. The parameter is `username` even for a list, as AccountViewSet.list
    /// reads it; a `usernames` parameter is not known and gets the 400 below.
    func lookupAccounts(email: String?, usernames: String?) -> Reply {
        var found: [Account] = []
        if let email, !email.isEmpty {
            found = store.account(email: email).map { [$0] } ?? []
        } else if let usernames, !usernames.isEmpty {
            let names = usernames.split(separator: ",").map(String.init)
            // The LMS itself sets no limit; the sandbox holds clients to the batches the reference asks for,
            // in the words of the enrollments list's limit.
            guard names.count <= 100 else {
                return .json(
                    .badRequest,
                    ["username": .array([.string("Too many usernames in a single request - \(names.count). A maximum of 100 is allowed")])]
                )
            }
            // A filter on username, so each account once and a name asked twice answers once.
            var seen = Set<String>()
            found = names.compactMap { seen.insert($0).inserted ? store.accounts[$0] : nil }
        } else {
            return .json(
                .badRequest,
                ["developer_message": "Exactly one of email, username or lms_user_id must be provided."]
            )
        }
        guard !found.isEmpty else { return .empty(.notFound) }
        return .ok(.array(found.map(accountJSON)))
    }

    func accountJSON(_ account: Account) -> SandboxJSON {
        [
            "id": .int(account.id),
            "username": .string(account.username),
            "email": .string(account.email),
            "name": .string(account.name),
            "is_active": true,
            "date_joined": .string(Timestamp.format(account.joined)),
            "country": nil,
            "language_proficiencies": [],
            "requires_parental_consent": false,
            "account_privacy": "all_users",
        ]
    }
}
