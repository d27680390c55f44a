import Foundation

/// What a storefront's `POST /api/v1/orders` must hold before anything is stored or signed: one buyer's
/// email, a currency, course lines with quantities and decimal prices, a reference, a payment profile. Each
/// refusal is a sentence naming the field.
public enum OrderRequestRules {
    /// One line as sent.
    public struct Line: Sendable {
        public var courseID: String
        public var mode: String?
        public var quantity: Int?
        /// nil: the listed price.
        public var unitPrice: String?

        public init(courseID: String, mode: String? = nil, quantity: Int? = nil, unitPrice: String?) {
            self.courseID = courseID
            self.mode = mode
            self.quantity = quantity
            self.unitPrice = unitPrice
        }
    }

    /// An order request that passed: the email normalised, the currency upper-cased, prices in canonical form.
    public struct Checked: Sendable, Equatable {
        public var email: String
        public var currency: String
        public var items: [OrderItem]
        public var total: Decimal
        public var reference: String
    }

    public static let maxQuantity = 10_000

    /// A reference for an order nobody named: "RG-" and 12 random hexadecimal digits.
    public static func newReference() -> String {
        "RG-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).uppercased()
    }

    /// - Parameters:
    ///   - newReference: the reference an order gets when the storefront sends none.
    ///   - prices: the listed prices of the order's courses; a line's price is decided by `PriceRules`.
    ///   - maySetPrices: whether the storefront's token may sell at another price than the listed one.
    public static func check(email: String, currency: String, lines: [Line], reference: String?,
                             prices: ListedPrices = ListedPrices(), maySetPrices: Bool = false,
                             newReference: () -> String) -> Result<Checked, OrderRequestProblem> {
        if let problem = EmailAddressRule.problem(email) { return .failure(.init(problem)) }
        let upper = currency.uppercased()
        guard Money.isCurrencyCode(upper) else {
            return .failure(.init("currency \"\(ControlCharacterEscaping.escaped(String(currency.prefix(16))))\" is not a three-letter ISO 4217 code"))
        }
        guard !lines.isEmpty else { return .failure(.init("items is empty: an order sells at least one seat")) }
        var items: [OrderItem] = []
        var total = Decimal(0)
        var unlistedFree: [String] = []
        for (index, line) in lines.enumerated() {
            guard CourseKey(line.courseID) != nil else {
                return .failure(.init("items[\(index)].course_id \"\(ControlCharacterEscaping.escaped(String(line.courseID.prefix(120))))\" is not a course run key like course-v1:ORG+NUMBER+RUN"))
            }
            if let mode = line.mode, !ListedPrices.isMode(mode) {
                return .failure(.init("items[\(index)].mode \"\(ControlCharacterEscaping.escaped(String(mode.prefix(64))))\" is not a course mode like verified"))
            }
            let quantity = line.quantity ?? 1
            guard (1...maxQuantity).contains(quantity) else {
                return .failure(.init("items[\(index)].quantity must be between 1 and \(maxQuantity)"))
            }
            var sent: Decimal?
            if let text = line.unitPrice {
                guard let price = Money.parse(text), price >= 0 else {
                    return .failure(.init("items[\(index)].unit_price \"\(ControlCharacterEscaping.escaped(String(text.prefix(32))))\" is not an amount like 49.00"))
                }
                sent = price
            }
            let listed: Decimal?
            var mode = line.mode
            switch prices.lookup(courseID: line.courseID, mode: line.mode, currency: upper) {
            case .listed(let price, let listedMode):
                listed = price
                mode = listedMode
            case .unlisted(let elsewhere):
                // A course with a price list is sold at its prices: another mode or currency is not a way around it.
                guard !elsewhere || maySetPrices else {
                    return .failure(.init("items[\(index)]: \(line.courseID) has no price listed for \(line.mode.map { "mode \($0) in " } ?? "")\(upper) (registrar prices list)",
                                          code: "price_missing"))
                }
                listed = nil
            case .ambiguous(let modes):
                // Which listed price applies depends on the mode, so only a token that sets its own prices may omit it.
                guard sent != nil, maySetPrices else {
                    return .failure(.init("items[\(index)].mode is needed: \(line.courseID) is listed in \(modes.joined(separator: ", "))", code: "price_missing"))
                }
                listed = nil
            }
            let price: Decimal
            switch PriceRules.resolve(sent: sent, listed: listed, maySetPrices: maySetPrices, courseID: line.courseID,
                                      mode: line.mode, currency: upper) {
            case .price(let found): price = found
            case .mismatch(let message): return .failure(.init("items[\(index)]: " + message, code: "price_mismatch"))
            case .missing(let message): return .failure(.init("items[\(index)]: " + message, code: "price_missing"))
            }
            if price == 0, listed == nil { unlistedFree.append(line.courseID) }
            total += price * Decimal(quantity)
            items.append(OrderItem(courseID: line.courseID, mode: mode, quantity: quantity, unitPrice: Money.format(price)))
        }
        // Nothing to pay is enrolled at once, with no payment: only the price list or a token that sets prices
        // may say a seat is free.
        if total == 0, !unlistedFree.isEmpty, !maySetPrices {
            return .failure(.init("the order's total is 0.00 and no price is listed for \(unlistedFree.joined(separator: ", ")): a free seat is listed at 0.00 (registrar prices set) or sold by a token with --may-set-prices",
                                  code: "price_missing"))
        }
        let chosen = reference ?? newReference()
        guard (1...64).contains(chosen.count), chosen.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
            return .failure(.init("reference \"\(ControlCharacterEscaping.escaped(String(chosen.prefix(80))))\" must be 1 to 64 letters, digits, - or _"))
        }
        return .success(Checked(email: normalizedEmail(email), currency: upper, items: items, total: total, reference: chosen))
    }

    /// The profile that signs the checkout: the one named, or the only one configured.
    public static func profile(named id: String?, in profiles: [String: CyberSourceProfile])
        -> Result<CyberSourceProfile, OrderRequestProblem> {
        if let id {
            guard let found = profiles[id] else {
                return .failure(.init("profile_id \(ControlCharacterEscaping.escaped(String(id.prefix(40)))) is not under cybersource.profiles"))
            }
            return .success(found)
        }
        if profiles.count == 1, let only = profiles.values.first { return .success(only) }
        if profiles.isEmpty { return .failure(.init("no CyberSource profile is configured (cybersource.profiles)")) }
        return .failure(.init("several CyberSource profiles are configured: name one with profile_id"))
    }
}

/// Why an order request was refused, in a sentence naming the field.
public struct OrderRequestProblem: Error, Sendable, Equatable {
    public var message: String
    /// `invalid_order` (400) for a request that is not an order; `price_mismatch` and `price_missing` (422) for
    /// one the price list refuses.
    public var code: String
    public init(_ message: String, code: String = "invalid_order") {
        self.message = message
        self.code = code
    }
}
