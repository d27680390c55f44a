import Foundation
import RegistrarCore

/// An inbound delivery as received, before it is stored: the raw bytes and the verdict on them.
public struct NewDelivery: Sendable {
    public var source: String
    public var channel: String?
    /// Only the headers that matter to an operator replaying or auditing (topic, ids, signature presence).
    public var headers: [String: String]
    /// The bytes as received, for deciding; the ledger keeps `stored`, never these.
    public var body: [UInt8]
    public var verdict: String
    public var httpStatus: Int
    public var reason: String?
    /// Set for a body refused unread (too large): what is known of it instead of its bytes.
    public var unread: StoredBody?

    public init(source: String, channel: String? = nil, headers: [String: String] = [:], body: [UInt8],
                verdict: String, httpStatus: Int, reason: String? = nil) {
        self.source = source
        self.channel = channel
        self.headers = headers
        self.body = body
        self.verdict = verdict
        self.httpStatus = httpStatus
        // A reason may quote what was sent (a field that failed to parse): it is shown, logged and kept.
        self.reason = reason.map(CardNumberMasking.masked)
        self.unread = nil
    }

    /// A delivery whose body was too large to read: recorded with its size (and hash, when it was counted
    /// through), never its bytes.
    public init(source: String, channel: String? = nil, headers: [String: String] = [:], unread: StoredBody,
                verdict: String, httpStatus: Int, reason: String? = nil) {
        self.init(source: source, channel: channel, headers: headers, body: [], verdict: verdict, httpStatus: httpStatus,
                  reason: reason)
        self.unread = unread
    }

    /// The verdict of a delivery nobody vouched for (bad signature, unknown store, malformed before verification).
    public static let rejectedVerdict = "rejected"

    /// What the ledger keeps of the body: whole and masked, or for a rejected delivery its size, hash and
    /// first 4 KiB.
    public var stored: StoredBody {
        if let unread { return unread }
        return verdict == Self.rejectedVerdict ? .rejected(body) : .whole(body)
    }

    /// The headers the ledger keeps: card numbers masked, and bounded for a rejected delivery.
    public var storedHeaders: [String: String] {
        // Nearly always nothing to mask: keep the very same dictionary then.
        var masked = headers
        for (name, value) in headers {
            if let replaced = CardNumberMasking.maskedIfNeeded(value) { masked[name] = replaced }
        }
        return verdict == Self.rejectedVerdict ? StoredHeaders.rejected(masked) : masked
    }
}

/// A delivery as the ledger keeps it.
public struct Delivery: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var channel: String?
    public var receivedAt: Date
    public var headers: [String: String]
    /// What was kept of the body (see `StoredBody`): whole for accepted and ignored deliveries, at most the first
    /// 4 KiB of a rejected one; card numbers masked either way.
    public var body: [UInt8]
    /// Bytes received; more than `body.count` when only a part was kept.
    public var bodySize: Int
    /// SHA-256 (hex) of the body as received, kept for rejected deliveries.
    public var bodySHA256: String?
    public var verdict: String
    public var httpStatus: Int
    public var reason: String?
    /// Jobs created, or found by their dedupe keys, for this delivery.
    public var jobIDs: [Int64]

    public init(id: Int64, source: String, channel: String?, receivedAt: Date, headers: [String: String], body: [UInt8],
                bodySize: Int? = nil, bodySHA256: String? = nil, verdict: String, httpStatus: Int, reason: String?,
                jobIDs: [Int64]) {
        self.id = id
        self.source = source
        self.channel = channel
        self.receivedAt = receivedAt
        self.headers = headers
        self.body = body
        self.bodySize = bodySize ?? body.count
        self.bodySHA256 = bodySHA256
        self.verdict = verdict
        self.httpStatus = httpStatus
        self.reason = reason
        self.jobIDs = jobIDs
    }

    /// True when the ledger kept less than was received.
    public var bodyIsPartial: Bool { body.count < bodySize }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Which deliveries an operator lists, newest first.
public struct DeliveryFilter: Sendable {
    /// A source (woocommerce, cybersource) or a channel (a store id).
    public var source: String?
    public var verdict: String?
    /// Keyset paging: only deliveries with a smaller id (the last of the page before).
    public var beforeID: Int64?
    /// Only among this many newest deliveries: nothing indexes the verdict (intake would pay for it), so a
    /// page that filters by it reads a bounded part of the ledger.
    public var window: Int?
    public var limit: Int

    public init(source: String? = nil, verdict: String? = nil, beforeID: Int64? = nil, limit: Int = 50) {
        self.beforeID = beforeID
        self.source = source
        self.verdict = verdict
        self.limit = limit
    }
}
