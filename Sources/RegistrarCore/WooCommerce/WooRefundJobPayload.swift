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
        /// The line is sold as codes (`seats: codes`): a refund voids its codes rather than unenrolling anyone.
        public var codes: Bool

        public init(lineID: Int, courseID: String, mode: String? = nil, quantity: Int, codes: Bool = false) {
            self.lineID = lineID
            self.courseID = courseID
            self.mode = mode
            self.quantity = quantity
            self.codes = codes
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            lineID = try container.decode(Int.self, forKey: .lineID)
            courseID = try container.decode(String.self, forKey: .courseID)
            mode = try container.decodeIfPresent(String.self, forKey: .mode)
            quantity = try container.decode(Int.self, forKey: .quantity)
            // Jobs enqueued before seats were sold as codes carry no flag.
            codes = try container.decodeIfPresent(Bool.self, forKey: .codes) ?? false
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lineID, forKey: .lineID)
            try container.encode(courseID, forKey: .courseID)
            try container.encodeIfPresent(mode, forKey: .mode)
            try container.encode(quantity, forKey: .quantity)
            if codes { try container.encode(true, forKey: .codes) }
        }

        enum CodingKeys: String, CodingKey {
            case lineID = "line_id"
            case courseID = "course_id"
            case mode, quantity, codes
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
