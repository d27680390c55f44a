/// What a `woocommerce.catch-up` job carries: the store, and for an operator's walk where it starts.
public struct WooCatchUpPayload: Codable, Sendable, Equatable {
    public var store: String
    /// "2026-11-20T13:00:00" GMT; nil starts from the store's cursor less the overlap.
    public var since: String?

    public init(store: String, since: String? = nil) {
        self.store = store
        self.since = since
    }
}

extension WooCatchUpPayload: JobPayload {
    public var json: JSONValue { .fields(["store": .string(store), "since": since.map(JSONValue.string)]) }
}

extension JobKind {
    public static let woocommerceCatchUp: JobKind = "woocommerce.catch-up"
}

extension WooKeys {
    /// One catch-up of a store per interval: the slot is the interval's number since 1970, so every instance
    /// sharing the database asks for the same job.
    public static func catchUp(store: String, slot: Int64) -> String { "woocommerce.catch-up:\(store):\(slot)" }

    /// A store's catch-ups run one at a time.
    public static func catchUpSerial(store: String) -> String { "woocommerce.catch-up:\(store)" }
}
