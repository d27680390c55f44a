import Foundation

/// What an operator's search terms mean in the job table's keys, so every search is a range on an index: a
/// learner's jobs have serial keys beginning "email|", an order's dedupe keys begin with its prefix.
public enum JobSearchKeys {
    /// A half-open range [lower, upper) of keys that begin with `prefix`.
    public static func range(prefix: String) -> (lower: String, upper: String) {
        // Every key that begins with the prefix sorts below the prefix with its last byte raised by one.
        var bytes = Array(prefix.utf8)
        guard let last = bytes.popLast() else { return ("", "\u{10FFFF}") }
        bytes.append(last &+ 1)
        return (prefix, String(decoding: bytes, as: UTF8.self))
    }

    /// The serial keys of a learner's enrollment jobs (one course's is `SerialKey.enrollment`).
    public static func learner(email: String) -> (lower: String, upper: String) {
        range(prefix: normalizedEmail(email) + "|")
    }

    /// An order's dedupe key prefix: "STORE:ORDER" (a WooCommerce order, as `orders list` shows it) or a
    /// hosted-checkout reference.
    public static func order(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let colon = trimmed.lastIndex(of: ":"), let number = Int(trimmed[trimmed.index(after: colon)...]) {
            return WooKeys.orderPrefix(store: String(trimmed[..<colon]), order: number)
        }
        return OrderFulfilment.keyPrefix(reference: trimmed)
    }

    /// A WooCommerce store's dedupe key prefix.
    public static func store(_ name: String) -> String { "woo:\(name.trimmingCharacters(in: .whitespaces)):" }
}
