import Foundation

extension SandboxState {
    /// `GET /api/user/v1/accounts?email=…` (or `?username=a,b`): a list of accounts, or 404 with
    /// an empty body when none matches.
    func lookupAccounts(email: String?, usernames: String?) -> Reply {
        var found: [Account] = []
        if let email, !email.isEmpty {
            found = store.account(email: email).map { [$0] } ?? []
        } else if let usernames, !usernames.isEmpty {
            found = usernames.split(separator: ",").compactMap { store.accounts[String($0)] }
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
