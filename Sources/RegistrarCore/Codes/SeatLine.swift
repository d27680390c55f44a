/// One order line's seats, whatever sold them (a store order's line, a checkout item, a refunded line): what a
/// backend brings the line's codes in line with.
public struct SeatLine: Sendable {
    /// The codes' source reference.
    public var sourceReference: String
    public var courseID: String
    public var mode: String?
    public var seats: Int
    public var buyerEmail: String?
    public var orderNumber: String
    public var lineID: Int
    /// Who voids surplus codes, for the record.
    public var actor: String
    /// Why surplus codes are voided.
    public var voidReason: String
    /// The mail job's dedupe key, given the line's live codes after the batch.
    public var mailKey: @Sendable (Int) -> String

    public init(sourceReference: String, courseID: String, mode: String?, seats: Int, buyerEmail: String?, orderNumber: String,
                lineID: Int, actor: String, voidReason: String, mailKey: @escaping @Sendable (Int) -> String) {
        self.sourceReference = sourceReference
        self.courseID = courseID
        self.mode = mode
        self.seats = seats
        self.buyerEmail = buyerEmail
        self.orderNumber = orderNumber
        self.lineID = lineID
        self.actor = actor
        self.voidReason = voidReason
        self.mailKey = mailKey
    }

    /// A WooCommerce seat line, less the seats its refunds gave back (`refunded`, as the store has recorded them:
    /// a partial refund leaves the line's quantity as it was).
    public init(_ grant: SeatGrant, refunded: Int) {
        let reason = grant.seats == 0 ? "order \(grant.orderNumber) refunded"
            : refunded > 0 ? "order \(grant.orderNumber): \(refunded) of the \(grant.seats) seats of line \(grant.lineID) refunded"
            : "order \(grant.orderNumber) now has \(grant.seats) seats on line \(grant.lineID)"
        self.init(sourceReference: grant.sourceReference, courseID: grant.courseID, mode: grant.mode, seats: max(0, grant.seats - refunded),
                  buyerEmail: grant.buyerEmail, orderNumber: grant.orderNumber, lineID: grant.lineID, actor: "woocommerce:\(grant.store)",
                  voidReason: reason,
                  mailKey: { [store = grant.store, order = grant.orderID, line = grant.lineID] in
                      WooKeys.seatCodes(store: store, order: order, line: line, liveAfter: $0)
                  })
    }

    /// The mail to the buyer listing the codes made now.
    public func mailJob(to email: String, made: [RegistrationCode], liveAfter: Int) -> NewJob {
        let mail = CodesMailPayload(to: email, orderNumber: orderNumber, courseID: courseID, mode: mode, codes: made.map(\.grouped))
        return NewJob(kind: .mail, dedupeKey: mailKey(liveAfter), payload: mail.jsonText, source: actor)
    }

    /// What bringing the line's codes in line did, in words: notes for the delivery's record and the logs (codes
    /// shown by their last characters), and for a shortfall the operator's flag (codes whole).
    public func report(plan: SeatRules.Plan, made: Int, liveBefore: Int) -> (notes: [String], shortfall: String?) {
        var notes: [String] = []
        let line = "line \(lineID) (\(courseID))"
        if made > 0 {
            notes.append("\(line): \(made == 1 ? "1 code" : "\(made) codes") for the buyer to hand out (\(liveBefore + made) in all)")
            if buyerEmail == nil {
                notes.append("\(line): the order has no billing email, so its codes are only in `registrar codes list --order \(sourceReference)`")
            }
        }
        if !plan.void.isEmpty {
            notes.append("\(line): \(plan.void.count == 1 ? "1 unredeemed code" : "\(plan.void.count) unredeemed codes") voided (\(voidReason))")
        }
        guard !plan.redeemedBeyond.isEmpty else { return (notes, nil) }
        func summary(_ show: (RegistrationCode) -> String) -> String {
            let who = plan.redeemedBeyond.map { "\(show($0.code)) by \($0.redeemedBy.joined(separator: ", "))" }
            let count = plan.redeemedBeyond.count
            return "\(line) gave back \(count) more \(count == 1 ? "seat" : "seats") than it has unredeemed codes; redeemed: \(who.joined(separator: "; ")); nobody was unenrolled (registrar codes revoke CODE --email E)"
        }
        notes.append("\(OrderAttention.refundExceedsUnredeemedSeats.rawValue): \(summary(\.logSafe))")
        return (notes, summary(\.grouped))
    }
}
