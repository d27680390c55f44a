import Foundation
import RegistrarCore
import RegistrarStore

/// Signs the hosted-checkout fields of an order for its CyberSource profile, for `POST /api/v1/orders` and for a
/// priced code's order (the 402 of a redemption); and says how a priced code's seat is paid for.
struct CheckoutSigner: Sendable {
    let cybersource: CyberSourceConfig
    let holdMinutes: Int
    let clock: any WallClock

    /// Fields for one payment of `total` for the order: a fresh transaction UUID, signed now.
    func fields(reference: String, total: Decimal, currency: String, email: String, profile: CyberSourceProfile,
                locale: String) -> [String: String] {
        CheckoutRequest(profile: profile, referenceNumber: reference, amount: total, currency: currency,
                        transactionUUID: UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
                        signedDateTime: clock.now(), locale: locale, email: email).fields
    }

    /// `{"endpoint": …, "fields": {…}}` for a stored order; nil when its profile is no longer configured.
    func checkoutJSON(_ order: Order, locale: String = "en") -> JSONValue? {
        guard let profile = cybersource.profiles[order.profileID], let total = Money.parse(order.total) else { return nil }
        return .object([
            "endpoint": .string(cybersource.endpoint),
            "fields": .object(fields(reference: order.reference, total: total, currency: order.currency, email: order.email,
                                     profile: profile, locale: locale).mapValues(JSONValue.string)),
        ])
    }

    /// How a priced code's seat is paid: the only profile, or with several the first by id (a code's order is
    /// not the storefront's to route). Nil without any profile: priced codes cannot be paid here.
    func codeCheckout(createdBy: String?) -> CodeCheckout? {
        guard let profileID = cybersource.profiles.keys.sorted().first else { return nil }
        return CodeCheckout(profileID: profileID, hold: TimeInterval(holdMinutes * 60), createdBy: createdBy)
    }
}
