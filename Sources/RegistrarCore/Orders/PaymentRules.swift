import Foundation

/// What one verified payment callback does to its order. Pure: the store reads the order and the payments
/// already recorded, asks here, and writes the answer in the same transaction as the delivery.
public struct PaymentDecision: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        case paid
        /// The same transaction reported again: nothing new.
        case duplicateCallback = "duplicate_callback"
        /// A different transaction for an order already paid: money taken twice, to refund.
        case duplicatePayment = "duplicate_payment"
        case amountMismatch = "amount_mismatch"
        case review
        case declined
        case cancelled
        case error
    }

    public var outcome: Outcome
    /// 200 for everything recorded, 422 for an amount or currency mismatch (recorded, not fulfilled).
    public var httpStatus: Int
    /// The order's new status; nil leaves it as it is.
    public var newStatus: OrderStatus?
    public var attention: OrderAttention?
    /// Whether this callback's transaction becomes the order's paying transaction.
    public var recordsTransaction: Bool
    public var message: String
    /// True when the order's seats are to be fulfilled now (jobs enqueued in the same commit).
    public var fulfil: Bool
}

public enum PaymentRules {
    /// - Parameters:
    ///   - knownTransactions: transaction ids already recorded for this order.
    public static func decide(_ callback: VerifiedCallback, order: OrderSnapshot, knownTransactions: Set<String>)
        -> PaymentDecision {
        let reference = order.reference
        if knownTransactions.contains(callback.transactionID) {
            return PaymentDecision(outcome: .duplicateCallback, httpStatus: 200, newStatus: nil, attention: nil,
                                   recordsTransaction: false,
                                   message: "transaction \(callback.transactionID) for order \(reference) was already recorded",
                                   fulfil: false)
        }
        switch callback.decision {
        case .accept:
            if order.status == .paid || order.status == .inReview && order.transactionID != nil {
                return PaymentDecision(outcome: .duplicatePayment, httpStatus: 200, newStatus: nil, attention: .duplicatePayment,
                                       recordsTransaction: false,
                                       message: "order \(reference) was already paid by \(order.transactionID ?? "another transaction"); transaction \(callback.transactionID) must be refunded",
                                       fulfil: false)
            }
            switch PaymentCheck.check(callback, orderTotal: order.total, orderCurrency: order.currency) {
            case .matches:
                return PaymentDecision(outcome: .paid, httpStatus: 200, newStatus: .paid, attention: nil, recordsTransaction: true,
                                       message: "order \(reference) paid by transaction \(callback.transactionID)", fulfil: true)
            case .amountMismatch(let detail), .currencyMismatch(let detail):
                return PaymentDecision(outcome: .amountMismatch, httpStatus: 422, newStatus: nil, attention: .amountMismatch,
                                       recordsTransaction: false,
                                       message: "order \(reference) not fulfilled: \(detail)", fulfil: false)
            }
        case .review:
            guard order.status != .paid else {
                return PaymentDecision(outcome: .duplicatePayment, httpStatus: 200, newStatus: nil, attention: .duplicatePayment,
                                       recordsTransaction: false,
                                       message: "order \(reference) is paid; a second transaction \(callback.transactionID) is under review",
                                       fulfil: false)
            }
            return PaymentDecision(outcome: .review, httpStatus: 200, newStatus: .inReview, attention: .review,
                                   recordsTransaction: true,
                                   message: "order \(reference) held for review: accept or reject it with `registrar orders review`",
                                   fulfil: false)
        case .decline, .cancel, .error:
            let outcome: PaymentDecision.Outcome = callback.decision == .decline ? .declined
                : callback.decision == .cancel ? .cancelled : .error
            let status: OrderStatus = callback.decision == .decline ? .declined : callback.decision == .cancel ? .cancelled : .error
            // A late decline never undoes a payment that already went through.
            let settled = [.paid, .inReview].contains(order.status)
            return PaymentDecision(outcome: outcome, httpStatus: 200, newStatus: settled ? nil : status, attention: nil,
                                   recordsTransaction: false,
                                   message: "order \(reference): \(callback.decision.rawValue) recorded, nothing enrolled",
                                   fulfil: false)
        }
    }
}
