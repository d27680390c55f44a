/// The dedupe keys an order's jobs would have, worked out before the store looks them up, and how the keys the
/// store found become the order's memory.
public struct WooOrderKeys: Sendable {
    public let store: String
    public let orderID: Int
    public let enroll: [(line: Int, key: String)]
    public let unenroll: [(line: Int, key: String)]
    public let refund: [(refund: Int, key: String)]
    public let all: Set<String>

    public init(store: String, order: WooOrder) {
        self.init(store: store, orderID: order.id, lineIDs: order.lineItems.map(\.id), refundIDs: order.refunds.map(\.id))
    }

    public init(store: String, orderID: Int, lineIDs: [Int], refundIDs: [Int]) {
        self.store = store
        self.orderID = orderID
        enroll = lineIDs.map { ($0, WooKeys.enroll(store: store, order: orderID, line: $0)) }
        unenroll = lineIDs.map { ($0, WooKeys.unenroll(store: store, order: orderID, line: $0)) }
        refund = refundIDs.map { ($0, WooKeys.refund(store: store, order: orderID, refund: $0)) }
        all = Set(enroll.map(\.key) + unenroll.map(\.key) + refund.map(\.key))
    }

    /// Every dedupe key of this order's jobs starts with this; so may keys of other orders or stores (see
    /// `WooKeys.orderPrefix`), which `memory` ignores because it only looks for this order's own keys.
    public var prefix: String { WooKeys.orderPrefix(store: store, order: orderID) }

    /// The memory the intake rules decide against, from what the store found: the newest timestamp accepted for
    /// the order, and the dedupe keys (live or pruned jobs) that start with `prefix`. Also returns the keys it
    /// looked for and did not find: inserting their jobs needs no second look.
    public func memory(newestModifiedGMT: String?, foundKeys: Set<String>) -> (memory: WooOrderMemory, absentKeys: Set<String>) {
        var memory = WooOrderMemory(newestModifiedGMT: newestModifiedGMT)
        if foundKeys.isEmpty { return (memory, all) }
        for (line, key) in enroll where foundKeys.contains(key) { memory.linesWithEnroll.insert(line) }
        for (line, key) in unenroll where foundKeys.contains(key) { memory.linesWithUnenroll.insert(line) }
        for (refund, key) in refund where foundKeys.contains(key) { memory.refundsSeen.insert(refund) }
        // A line sold as codes leaves the keys of the mails that sent them: it stays a seat line whatever its
        // quantity becomes.
        for (line, _) in enroll {
            let marker = WooKeys.seatCodesPrefix(store: store, order: orderID, line: line)
            if foundKeys.contains(where: { $0.hasPrefix(marker) }) { memory.linesWithCodes.insert(line) }
        }
        return (memory, all.subtracting(foundKeys))
    }
}
