import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: RefundBook {
    public func recordRefund(_ refund: GatewayRefund, actor: String) async throws -> RefundOutcome {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let outcome = try await write { db in try Self.record(refund, actor: actor, maxAttempts: maxAttempts, now: now, in: db) }
        jobsMayRun(outcome.jobs.contains(where: \.created))
        return outcome
    }

    public func recordRefunds(_ refunds: [GatewayRefund], actor: String) async throws -> [RefundOutcome] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let outcomes = try await write { db -> [RefundOutcome] in
            try refunds.map { refund in
                func refused(_ reason: String) -> RefundOutcome {
                    RefundOutcome(refund: RefundRecord(origin: refund.origin, orderSource: .cybersource, orderRef: refund.orderRef,
                                                       line: refund.line, amount: refund.amount, currency: refund.currency ?? "",
                                                       reference: refund.reference, at: now),
                                  alreadyRecorded: false, refused: reason)
                }
                do {
                    return try Self.record(refund, actor: actor, maxAttempts: maxAttempts, now: now, in: db)
                } catch let error as RefundError {
                    return refused(error.description)
                } catch let error as OrderError {
                    return refused(error.description)
                }
            }
        }
        jobsMayRun(outcomes.contains { $0.jobs.contains(where: \.created) })
        return outcomes
    }

    public func attributeStoreRefund(store: String, orderID: Int, refundID: Int, amounts: [Int: Decimal]) async throws {
        guard !amounts.isEmpty else { return }
        let now = clock.now()
        let orderRef = WooKeys.saleReference(store: store, order: orderID)
        try await write { db in
            let prefix = "\(refundID):"
            guard try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM refunds WHERE order_source = 'woocommerce' AND order_ref = ? AND reference >= ? AND reference < ?
                """, arguments: [orderRef, prefix, "\(refundID);"]) == 0 else { return }
            let base = try Row.fetchOne(db, sql: """
                SELECT id, amount, currency, at FROM refunds WHERE order_source = 'woocommerce' AND order_ref = ? AND reference = ?
                """, arguments: [orderRef, String(refundID)])
            let saleCurrency = try String.fetchOne(db, sql: "SELECT currency FROM woo_orders WHERE store = ? AND order_id = ?",
                                                   arguments: [store, orderID])
            guard let currency = (base?["currency"] as String?) ?? saleCurrency else { return }
            let at: Date = base?["at"] ?? now
            let lines = amounts.sorted { $0.key < $1.key }.map { line, amount in
                RefundRecord(origin: .woocommerce, orderSource: .woocommerce, orderRef: orderRef, line: line, amount: amount,
                             currency: currency, reference: "\(refundID):\(line)", at: at)
            }
            try SalesTable.record(lines, at: at, by: "woocommerce:\(store)", in: db)
            if let base, let whole = Money.parse(base["amount"]) {
                let rest = max(0, whole - amounts.values.reduce(0, +))
                try db.execute(sql: "UPDATE refunds SET amount = ? WHERE id = ?", arguments: [Money.format(rest), base["id"] as Int64])
            } else {
                // The order's own row holds what the lines do not (nothing, here), so that the order's next delivery,
                // listing this refund again, finds it recorded instead of adding the whole amount.
                try SalesTable.record([RefundRecord(origin: .woocommerce, orderSource: .woocommerce, orderRef: orderRef, amount: 0,
                                                    currency: currency, reference: String(refundID), at: at)],
                                      at: at, by: "woocommerce:\(store)", in: db)
            }
        }
    }

    /// Decides and applies one refund inside the caller's transaction.
    static func record(_ refund: GatewayRefund, actor: String, maxAttempts: Int, now: Date, in db: Database) throws -> RefundOutcome {
        guard let order = try order(refund.orderRef, in: db) else { throw OrderError.notFound(refund.orderRef) }
        let lines = try SalesTable.checkoutLines(orderRef: refund.orderRef, in: db)
        let earlier = try SalesTable.refunds(source: .cybersource, orderRef: refund.orderRef, in: db)
        switch GatewayRefundRules.decide(refund, orderCurrency: order.currency, orderStatus: order.status.rawValue, lines: lines,
                                         refunds: earlier, taken: try SalesTable.taken(orderRef: refund.orderRef, in: db), at: now) {
        case .refused(let reason):
            throw RefundError.refused(reason)
        case .alreadyRecorded(let record):
            return RefundOutcome(refund: record, alreadyRecorded: true)
        case .record(let record, let givesBack):
            try SalesTable.record([record], at: now, by: actor, in: db)
            let source = "refund:\(actor)"
            var jobs: [EnqueuedJob] = []
            var notes: [String] = []
            for line in givesBack {
                switch line.fulfilment {
                case .single, .buyer:
                    if let job = try line.unenrollJob(source: source) {
                        jobs += try JobTable.insert([job], deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
                        notes.append("line \(line.line) (\(line.courseID)) refunded whole: \(line.email) is unenrolled")
                    }
                case .codes:
                    let outcome = try SeatLedger.apply(SeatLine(
                        sourceReference: OrderFulfilment.seatSource(reference: refund.orderRef, index: line.line), courseID: line.courseID,
                        mode: line.mode, seats: 0, buyerEmail: line.email, orderNumber: refund.orderRef, lineID: line.line, actor: source,
                        voidReason: "order \(refund.orderRef) line \(line.line) refunded",
                        mailKey: { OrderFulfilment.seatMailKey(reference: refund.orderRef, index: line.line, liveAfter: $0) }),
                        deliveryID: nil, maxAttempts: maxAttempts, now: now, in: db)
                    notes += outcome.notes
                    if outcome.shortfall != nil {
                        try db.execute(sql: "UPDATE orders SET attention = ?, updated_at = ? WHERE reference = ?",
                                       arguments: [OrderAttention.refundExceedsUnredeemedSeats.rawValue, now, refund.orderRef])
                    }
                case .other:
                    break
                case .codePayment:
                    notes.append("line \(line.line) (\(line.courseID)) paid for a code's seat: the learner keeps it until `registrar codes revoke`")
                }
            }
            if record.surplus { notes.append("gives back the payment taken beyond the order's amount: no seat is touched") }
            try audit(actor: actor, action: "order.refund", jobID: nil,
                      detail: "order \(refund.orderRef): \(Money.format(record.amount)) \(record.currency)"
                        + (record.line.map { " on line \($0)" } ?? "") + (record.reference.map { " (\($0))" } ?? "")
                        + " recorded from \(record.origin.rawValue)", at: now, in: db)
            return RefundOutcome(refund: record, alreadyRecorded: false, jobs: jobs, notes: notes)
        }
    }
}
