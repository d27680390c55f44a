import Hummingbird
import HummingbirdAuth
import RegistrarStore

/// The request context of every route: Hummingbird's core storage and, behind the token middleware, the token
/// the caller authenticated with.
public struct RegistrarRequestContext: AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: APIToken?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }
}
