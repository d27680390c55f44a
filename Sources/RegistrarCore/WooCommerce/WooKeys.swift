/// Dedupe keys for WooCommerce jobs. The store's UNIQUE index on them is the exactly-once guarantee, so they
/// name the fact (this line of this order is paid for; this refund exists), never the delivery that told us:
/// WooCommerce re-sends the same facts in every `order.updated`, and its delivery id is not unique.
public enum WooKeys {
    /// An order as the reports name it (`<store>:<order id>`), beside CyberSource's references.
    public static func saleReference(store: String, order: Int) -> String { "\(store):\(order)" }

    public static func enroll(store: String, order: Int, line: Int) -> String {
        "woo:\(store):\(order):\(line):enroll"
    }

    /// Shared by the refunded-status path and the refund handler, so an order refunded line by line and then
    /// in full unenrolls each line once.
    public static func unenroll(store: String, order: Int, line: Int) -> String {
        "woo:\(store):\(order):\(line):unenroll"
    }

    public static func refund(store: String, order: Int, refund: Int) -> String {
        "woo:\(store):\(order):refund:\(refund)"
    }

    /// `action.woocommerce_order_refunded` names the order but not the refund: the only fact is the delivery.
    public static func orderSync(store: String, order: Int, delivery: String) -> String {
        "woo:\(store):\(order):sync:\(delivery)"
    }

    /// Refund jobs of one order run one at a time, in creation order, so two refunds never race over a line.
    public static func orderSerial(store: String, order: Int) -> String {
        "woo:\(store):\(order)"
    }

    /// The text every dedupe key of one order's jobs starts with (a key of another store or order may start
    /// with it too: "woo:a:1:" begins store "a:1"'s keys as well, so a prefix finds candidates, not answers).
    public static func orderPrefix(store: String, order: Int) -> String {
        "woo:\(store):\(order):"
    }

    /// The mail of one batch of a seat line's codes: the line's live count after the batch names it, so a
    /// redelivery finds the same job and a later increase gets a mail of its own. Under the order's prefix, so
    /// the order's memory knows the line is sold as codes.
    public static func seatCodes(store: String, order: Int, line: Int, liveAfter: Int) -> String {
        seatCodesPrefix(store: store, order: order, line: line) + String(liveAfter)
    }

    public static func seatCodesPrefix(store: String, order: Int, line: Int) -> String { "woo:\(store):\(order):\(line):codes:" }
}
