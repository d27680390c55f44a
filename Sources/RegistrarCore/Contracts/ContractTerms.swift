import Foundation

/// How a contract's learners arrive: by codes (`non-sso`), or provisioned by the organization's single sign-on
/// and attached by an operator (`sso`; codes only when the contract has a price).
public enum ContractIntegration: String, Sendable, Codable, CaseIterable {
    case sso
    case nonSSO = "non-sso"
}

/// What a contract promises: who gets in, for how long, at what price. Dates are calendar days (`YYYY-MM-DD`),
/// inclusive, in UTC.
public struct ContractTerms: Sendable, Equatable {
    public var integration: ContractIntegration
    public var start: String?
    public var end: String?
    /// Distinct learners across the whole contract; nil is uncapped.
    public var maxLearners: Int?
    /// 0 is free.
    public var price: Decimal
    public var currency: String?
    public var active: Bool

    public init(integration: ContractIntegration, start: String? = nil, end: String? = nil, maxLearners: Int? = nil,
                price: Decimal = 0, currency: String? = nil, active: Bool = true) {
        self.integration = integration
        self.start = start
        self.end = end
        self.maxLearners = maxLearners
        self.price = price
        self.currency = currency
        self.active = active
    }

    /// Active, and `day` (`YYYY-MM-DD`) within its dates.
    public func inForce(on day: String) -> Bool {
        guard active else { return false }
        if let start, day < start { return false }
        if let end, day > end { return false }
        return true
    }

    /// The day of an instant, as contract dates are compared.
    public static func day(_ date: Date) -> String {
        String(Timestamp.format(date).prefix(10))
    }

    /// The problem with these terms, in a sentence naming the option, or nil.
    public var problem: String? {
        if let start, !Self.isDay(start) { return "--start \(start) is not a date (YYYY-MM-DD)" }
        if let end, !Self.isDay(end) { return "--end \(end) is not a date (YYYY-MM-DD)" }
        if let start, let end, end < start { return "--end \(end) is before --start \(start)" }
        if let cap = maxLearners, cap < 0 { return "--max-learners must not be negative (got \(cap))" }
        if let cap = maxLearners, cap > 100_000 { return "--max-learners \(cap) is more than 100,000" }
        if price < 0 { return "--price must not be negative (got \(Money.format(price)))" }
        if price > 0, currency == nil { return "--price needs --currency" }
        if let currency, !(currency.count == 3 && currency.allSatisfy { $0.isASCII && $0.isLetter }) {
            return "--currency \(currency) is not a three-letter code"
        }
        return nil
    }

    static func isDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return false }
        // A day that does not exist (February 30) comes back as another.
        let back = CivilCalendar.civil(fromDays: CivilCalendar.days(fromCivil: year, month, day))
        return back.year == year && back.month == month && back.day == day
    }
}

/// An organization's key goes into course keys: `[A-Za-z0-9_.-]{1,30}`.
public enum OrganizationKey {
    public static func problem(_ key: String) -> String? {
        if key.isEmpty { return "the organization key is empty" }
        if key.count > 30 { return "the organization key \"\(key.prefix(40))\" is longer than 30 characters" }
        let allowed = key.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) }
        return allowed ? nil : "the organization key \"\(ControlCharacterEscaping.escaped(key))\" may hold only letters, digits, \"_\", \".\" and \"-\""
    }

    /// A name as a URL slug: lower-case letters and digits, runs of anything else as one "-".
    public static func slug(_ name: String) -> String {
        var slug = ""
        var dash = false
        for scalar in name.lowercased().unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                if dash, !slug.isEmpty { slug.append("-") }
                slug.unicodeScalars.append(scalar)
                dash = false
            } else {
                dash = true
            }
        }
        return slug.isEmpty ? "org" : slug
    }
}
