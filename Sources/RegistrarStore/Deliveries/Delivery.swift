import Foundation

/// An inbound delivery as received, before it is stored: the raw bytes and the verdict on them.
public struct NewDelivery: Sendable {
    public var source: String
    public var channel: String?
    /// Only the headers that matter to an operator replaying or auditing (topic, ids, signature presence).
    public var headers: [String: String]
    public var body: [UInt8]
    public var verdict: String
    public var httpStatus: Int
    public var reason: String?

    public init(source: String, channel: String? = nil, headers: [String: String] = [:], body: [UInt8],
                verdict: String, httpStatus: Int, reason: String? = nil) {
        self.source = source
        self.channel = channel
        self.headers = headers
        self.body = body
        self.verdict = verdict
        self.httpStatus = httpStatus
        self.reason = reason
    }
}

/// A delivery as the ledger keeps it.
public struct Delivery: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var channel: String?
    public var receivedAt: Date
    public var headers: [String: String]
    public var body: [UInt8]
    public var verdict: String
    public var httpStatus: Int
    public var reason: String?
    /// Jobs created, or found by their dedupe keys, for this delivery.
    public var jobIDs: [Int64]

    public init(id: Int64, source: String, channel: String?, receivedAt: Date, headers: [String: String], body: [UInt8],
                verdict: String, httpStatus: Int, reason: String?, jobIDs: [Int64]) {
        self.id = id
        self.source = source
        self.channel = channel
        self.receivedAt = receivedAt
        self.headers = headers
        self.body = body
        self.verdict = verdict
        self.httpStatus = httpStatus
        self.reason = reason
        self.jobIDs = jobIDs
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Which deliveries an operator lists, newest first.
public struct DeliveryFilter: Sendable {
    /// A source (woocommerce, cybersource) or a channel (a store id).
    public var source: String?
    public var verdict: String?
    public var limit: Int

    public init(source: String? = nil, verdict: String? = nil, limit: Int = 50) {
        self.source = source
        self.verdict = verdict
        self.limit = limit
    }
}
