import Hummingbird
import HummingbirdAuth
import NIOCore
import RegistrarStore

/// The request context of every route: Hummingbird's core storage and, behind the token middleware, the token
/// the caller authenticated with.
public struct RegistrarRequestContext: AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: APIToken?
    /// Kept to read the peer's address only when a request needs it (a rejection, a rate limit): formatting it
    /// for every accepted delivery would be work thrown away.
    private let channel: (any Channel)?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
        channel = source.channel
    }

    /// The TCP peer's address ("192.0.2.7", "::1"), nil for a Unix socket or an in-process test client.
    public var peerAddress: String? { channel?.remoteAddress?.ipAddress }
}
