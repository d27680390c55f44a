import Hummingbird
import HummingbirdAuth
import RegistrarStore

/// The request context of every route: Hummingbird's core storage and, behind the token middleware, the token
/// the caller authenticated with.
public struct RegistrarRequestContext: AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: APIToken?
    /// The TCP peer's address ("192.0.2.7", "::1"), nil for a Unix socket or an in-process test client.
    public var peerAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}
