import Foundation

/// ACCEPT rules against the order: auth_amount == req_amount == order total, currency equal ignoring case.
/// A partial authorisation (auth_amount below req_amount) is a mismatch, as in openedx/ecommerce: the
/// learner must not be enrolled for less than the price.
public enum PaymentCheck {
    public enum Result: Sendable, Equatable {
        case matches
        case amountMismatch(String)
        case currencyMismatch(String)
    }

    public static func check(_ callback: VerifiedCallback, orderTotal: Decimal, orderCurrency: String) -> Result {
        // Amounts in different currencies are not comparable, so currency is judged first.
        guard callback.currency.lowercased() == orderCurrency.lowercased() else {
            return .currencyMismatch("the payment is in \(callback.currency) but the order is in \(orderCurrency)")
        }
        guard let authorised = callback.authAmount else {
            return .amountMismatch("the payment carries no auth_amount, so nothing was authorised")
        }
        guard authorised == callback.requestAmount else {
            return .amountMismatch("auth_amount \(Money.format(authorised)) differs from req_amount "
                + "\(Money.format(callback.requestAmount)) (partial authorisation)")
        }
        guard callback.requestAmount == orderTotal else {
            return .amountMismatch("the payment of \(Money.format(callback.requestAmount)) differs from the order "
                + "total \(Money.format(orderTotal))")
        }
        return .matches
    }
}
