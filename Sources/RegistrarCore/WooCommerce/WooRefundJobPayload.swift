/// What a `woocommerce.refund` job carries. The order payload lists refunds without their lines, so the handler
/// asks the store's REST API which lines each refund covers, then unenrolls those among `lines`.
public struct WooRefundJobPayload: Codable, Sendable, Equatable {
    public var store: String
    public var orderID: Int
    public var orderNumber: String
    /// nil: look at every refund of the order (`action.woocommerce_order_refunded` does not name the refund).
    public var refundID: Int?
    public var email: String?
    /// The order's course lines when the delivery arrived; empty when the delivery did not carry the order.
    public var lines: [Line]

    public struct Line: Codable, Sendable, Equatable {
        public var lineID: Int
        public var courseID: String
        public var mode: String?
        public var quantity: Int

        public init(lineID: Int, courseID: String, mode: String? = nil, quantity: Int) {
            self.lineID = lineID
            self.courseID = courseID
            self.mode = mode
            self.quantity = quantity
        }

        enum CodingKeys: String, CodingKey {
            case lineID = "line_id"
            case courseID = "course_id"
            case mode, quantity
        }
    }

    public init(store: String, orderID: Int, orderNumber: String, refundID: Int? = nil, email: String? = nil,
                lines: [Line] = []) {
        self.store = store
        self.orderID = orderID
        self.orderNumber = orderNumber
        self.refundID = refundID
        self.email = email
        self.lines = lines
    }

    enum CodingKeys: String, CodingKey {
        case store, email, lines
        case orderID = "order_id"
        case orderNumber = "order_number"
        case refundID = "refund_id"
    }
}
