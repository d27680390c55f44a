/// A paid order line that sells several seats, as codes: how many seats it holds now. The store brings the
/// line's codes in line with it (`SeatRules`): more seats make new codes, fewer void unredeemed ones.
public struct SeatGrant: Sendable, Equatable {
    public var store: String
    public var orderID: Int
    public var orderNumber: String
    public var lineID: Int
    public var courseID: String
    public var mode: String?
    /// Seats the line holds now: its quantity, or 0 once the order is refunded.
    public var seats: Int
    /// Who the codes are mailed to.
    public var buyerEmail: String?

    public init(store: String, orderID: Int, orderNumber: String, lineID: Int, courseID: String, mode: String?, seats: Int,
                buyerEmail: String?) {
        self.store = store
        self.orderID = orderID
        self.orderNumber = orderNumber
        self.lineID = lineID
        self.courseID = courseID
        self.mode = mode
        self.seats = seats
        self.buyerEmail = buyerEmail
    }

    /// The codes' source reference: one store's order line.
    public var sourceReference: String { "\(store):\(orderID):\(lineID)" }
}

/// How a line's existing codes meet the seats it holds now. Pure.
public enum SeatRules {
    /// A code of the line that is not void, in creation order.
    public struct LiveCode: Sendable, Equatable {
        public var id: Int64
        public var code: RegistrationCode
        /// Learners who redeemed it (empty: unredeemed).
        public var redeemedBy: [String]

        public init(id: Int64, code: RegistrationCode, redeemedBy: [String]) {
            self.id = id
            self.code = code
            self.redeemedBy = redeemedBy
        }
    }

    public struct Plan: Sendable, Equatable {
        /// New codes to make.
        public var create: Int
        /// Unredeemed codes to void, newest first.
        public var void: [RegistrationCode]
        /// Seats taken back beyond the unredeemed codes: these redeemed codes stay, and the order needs an
        /// operator (nobody is unenrolled without `codes revoke`).
        public var redeemedBeyond: [LiveCode]

        public init(create: Int, void: [RegistrationCode], redeemedBeyond: [LiveCode]) {
            self.create = create
            self.void = void
            self.redeemedBeyond = redeemedBeyond
        }
    }

    public static func plan(seats: Int, live: [LiveCode]) -> Plan {
        let wanted = max(0, seats)
        if live.count <= wanted { return Plan(create: wanted - live.count, void: [], redeemedBeyond: []) }
        let surplus = live.count - wanted
        let unredeemed = live.filter { $0.redeemedBy.isEmpty }.sorted { $0.id > $1.id }
        let voided = Array(unredeemed.prefix(surplus))
        let short = surplus - voided.count
        let redeemed = live.filter { !$0.redeemedBy.isEmpty }.sorted { $0.id > $1.id }
        return Plan(create: 0, void: voided.map(\.code), redeemedBeyond: short > 0 ? Array(redeemed.prefix(short)) : [])
    }
}
