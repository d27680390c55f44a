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
        public var unitPrice: String

        public init(courseID: String, mode: String? = nil, quantity: Int? = nil, unitPrice: String) {
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

    /// - Parameter newReference: the reference an order gets when the storefront sends none.
    public static func check(email: String, currency: String, lines: [Line], reference: String?,
                             newReference: () -> String) -> Result<Checked, OrderRequestProblem> {
        if let problem = EmailAddressRule.problem(email) { return .failure(.init(problem)) }
        let upper = currency.uppercased()
        guard upper.count == 3, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return .failure(.init("currency \"\(ControlCharacterEscaping.escaped(String(currency.prefix(16))))\" is not a three-letter ISO 4217 code"))
        }
        guard !lines.isEmpty else { return .failure(.init("items is empty: an order sells at least one seat")) }
        var items: [OrderItem] = []
        var total = Decimal(0)
        for (index, line) in lines.enumerated() {
            guard CourseKey(line.courseID) != nil else {
                return .failure(.init("items[\(index)].course_id \"\(ControlCharacterEscaping.escaped(String(line.courseID.prefix(120))))\" is not a course run key like course-v1:ORG+NUMBER+RUN"))
            }
            let quantity = line.quantity ?? 1
            guard (1...maxQuantity).contains(quantity) else {
                return .failure(.init("items[\(index)].quantity must be between 1 and \(maxQuantity)"))
            }
            guard let price = Money.parse(line.unitPrice), price >= 0 else {
                return .failure(.init("items[\(index)].unit_price \"\(ControlCharacterEscaping.escaped(String(line.unitPrice.prefix(32))))\" is not an amount like 49.00"))
            }
            total += price * Decimal(quantity)
            items.append(OrderItem(courseID: line.courseID, mode: line.mode, quantity: quantity, unitPrice: Money.format(price)))
        }
        guard total > 0 else { return .failure(.init("the order's total is zero: nothing to pay")) }
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
    public init(_ message: String) { self.message = message }
}
