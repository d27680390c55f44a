import OpenEdX
import RegistrarCore
import RegistrarStore

/// Finds a learner's Open edX username by email: the store's cache first, then the accounts API.
struct LearnerDirectory: Sendable {
    let store: any LearnerCache
    let client: OpenEdXClient

    enum Lookup {
        case found(username: String, fromCache: Bool)
        case noAccount
        case failed(HandlerOutcome)
    }

    func lookup(_ email: String) async -> Lookup {
        if let cached = try? await store.cachedUsername(email: email) {
            return .found(username: cached, fromCache: true)
        }
        switch await client.username(forEmail: email) {
        case .ok(let username?, _):
            // A failed cache write only costs a lookup next time.
            try? await store.cacheUsername(username, email: email)
            return .found(username: username, fromCache: false)
        case .ok(nil, _):
            return .noAccount
        case .failed(let outcome, let status):
            return .failed(outcome.handlerOutcome(status: status))
        }
    }

    /// A cached username the LMS no longer knows (406): forget it so the next attempt looks it up again.
    func forget(_ email: String) async {
        try? await store.forgetUsername(email: email)
    }
}
