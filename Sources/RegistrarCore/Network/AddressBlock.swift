#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address in its 16-byte form (IPv4 as an IPv4-mapped IPv6 address), so that one comparison serves both.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let isIPv4: Bool

    /// Parses dotted IPv4 or textual IPv6 (no zone, no brackets, no port).
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        var v4 = in_addr()
        if text.contains("."), !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 {
            let raw = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            bytes = Array(repeating: 0, count: 10) + [0xff, 0xff] + raw
            isIPv4 = true
            return
        }
        var v6 = in6_addr()
        guard text.contains(":"), inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let raw = withUnsafeBytes(of: v6) { Array($0) }
        if raw.prefix(12) == ArraySlice(Array(repeating: 0, count: 10) + [0xff, 0xff]) {
            bytes = raw
            isIPv4 = true
        } else {
            bytes = raw
            isIPv4 = false
        }
    }

    public var description: String {
        if isIPv4 { return bytes.suffix(4).map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }
}

/// An address or a CIDR block from `server.trusted_proxies` ("10.0.0.0/8", "::1", "192.0.2.7").
public struct AddressBlock: Sendable, Equatable {
    public let network: IPAddress
    /// Prefix length over the 16-byte form.
    public let prefixBits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        let full = address.isIPv4 ? 32 : 128
        var bits = full
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...full).contains(given) else { return nil }
            bits = given
        }
        network = address
        prefixBits = bits + (address.isIPv4 ? 96 : 0)
    }

    public func contains(_ address: IPAddress) -> Bool {
        var remaining = prefixBits
        for index in 0..<16 where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if network.bytes[index] & mask != address.bytes[index] & mask { return false }
            remaining -= 8
        }
        return true
    }
}
