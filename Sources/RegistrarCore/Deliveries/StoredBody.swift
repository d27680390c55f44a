import Crypto

/// What the delivery ledger keeps of a body. An accepted or ignored delivery keeps all of it (card numbers
/// masked): an operator replays from it. A rejected one came from someone who could not sign, so nothing in it
/// is believed and keeping it whole would let anyone fill the disk: it keeps its size, a SHA-256 of what was
/// received (to recognise the same body sent again) and at most its first 4 KiB (to see what it was).
public struct StoredBody: Sendable, Equatable {
    /// The bytes the ledger keeps: the whole body or its first `rejectedPrefixBytes`, card numbers masked.
    public var bytes: [UInt8]
    /// How many bytes were received (for a body refused unread: as announced, or counted before refusing).
    public var size: Int
    /// Lower-case hex SHA-256 of the body as received; nil when it was not read whole.
    public var sha256: String?

    public static let rejectedPrefixBytes = 4096

    public init(bytes: [UInt8], size: Int, sha256: String?) {
        self.bytes = bytes
        self.size = size
        self.sha256 = sha256
    }

    /// True when the ledger keeps less than was received.
    public var isPartial: Bool { bytes.count < size }

    /// The whole body, masked: for deliveries whose body may be needed again.
    public static func whole(_ body: [UInt8]) -> StoredBody {
        StoredBody(bytes: CardNumberMasking.masked(body), size: body.count, sha256: nil)
    }

    /// The size, hash and first 4 KiB of a rejected body. Masked before it is cut, so a number across the cut
    /// is masked too.
    public static func rejected(_ body: [UInt8]) -> StoredBody {
        let masked = CardNumberMasking.masked(body)
        return StoredBody(bytes: Array(masked.prefix(rejectedPrefixBytes)), size: body.count, sha256: sha256Hex(body))
    }

    /// A body refused unread (too large): only what is known of it.
    public static func unread(size: Int, sha256: String?) -> StoredBody {
        StoredBody(bytes: [], size: size, sha256: sha256)
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A SHA-256 taken while a body streams in, so a body too large to keep can still be recognised.
public struct StreamingBodyDigest {
    private var hasher = SHA256()
    public private(set) var count = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        count += bytes.count
    }

    public func finalize() -> String { StoredBody.hex(hasher.finalize()) }
}
