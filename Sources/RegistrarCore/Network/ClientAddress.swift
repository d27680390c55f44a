import Foundation

/// Which address a request is counted against: the peer's, unless the peer is a trusted proxy, in which case
/// `X-Forwarded-For` is walked from the right (the proxy's own addition) past every trusted hop. The leftmost
/// entries are whatever the client wrote and are never believed on their own.
public struct ClientAddressResolver: Sendable {
    public let trusted: [AddressBlock]

    public init(trustedProxies: [String]) {
        trusted = trustedProxies.compactMap(AddressBlock.init)
    }

    public func isTrusted(_ address: IPAddress) -> Bool { trusted.contains { $0.contains(address) } }

    /// - Parameters:
    ///   - peer: the TCP peer's address text; nil when unknown (a Unix socket, a test).
    ///   - forwardedFor: every `X-Forwarded-For` header value, in order.
    /// - Returns: the address text to count the request against ("unknown" when there is none).
    public func resolve(peer: String?, forwardedFor: [String]) -> String {
        guard let peer, let peerAddress = IPAddress(peer) else { return peer ?? "unknown" }
        guard isTrusted(peerAddress) else { return peerAddress.description }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peerAddress
        for hop in hops.reversed() {
            // A hop that is not an address (a forged "unknown", garbage) ends the walk at the last good one.
            guard let address = IPAddress(Self.strippingPort(hop)) else { break }
            client = address
            if !isTrusted(address) { break }
        }
        return client.description
    }

    /// "[2001:db8::1]:443" → "2001:db8::1", "192.0.2.1:80" → "192.0.2.1"; anything else unchanged.
    static func strippingPort(_ hop: String) -> String {
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") {
            return String(hop[hop.index(after: hop.startIndex)..<close])
        }
        if hop.filter({ $0 == ":" }).count == 1, let colon = hop.firstIndex(of: ":") {
            return String(hop[..<colon])
        }
        return hop
    }
}
