import Foundation

/// A course run's price in one mode and currency, as `registrar prices set` lists it.
public struct ListedPrice: Sendable, Equatable {
    public var courseID: String
    public var mode: String
    public var currency: String
    public var price: Decimal

    public init(courseID: String, mode: String, currency: String, price: Decimal) {
        self.courseID = courseID
        self.mode = mode
        self.currency = currency.uppercased()
        self.price = price
    }

    /// Why a price cannot be listed, in a sentence naming the option; nil when it can.
    public static func problem(courseID: String, mode: String, currency: String, price: String) -> String? {
        guard CourseKey(courseID) != nil else { return "course \"\(ControlCharacterEscaping.escaped(String(courseID.prefix(120))))\" is not a course run key like course-v1:ORG+NUMBER+RUN" }
        guard ListedPrices.isMode(mode) else {
            return "mode \"\(ControlCharacterEscaping.escaped(String(mode.prefix(64))))\" is not a course mode like verified"
        }
        let upper = currency.uppercased()
        guard Money.isCurrencyCode(upper) else {
            return "currency \"\(ControlCharacterEscaping.escaped(String(currency.prefix(16))))\" is not a three-letter ISO 4217 code"
        }
        guard let amount = Money.parse(price), amount >= 0 else {
            return "price \"\(ControlCharacterEscaping.escaped(String(price.prefix(32))))\" is not an amount like 49.00"
        }
        return nil
    }
}

/// The listed prices an order's lines are looked up in.
public struct ListedPrices: Sendable, Equatable {
    public var entries: [ListedPrice]

    public init(_ entries: [ListedPrice] = []) { self.entries = entries }

    public enum Lookup: Sendable, Equatable {
        /// The price, and the mode it is listed for (a line without a mode is sold in it).
        case listed(Decimal, mode: String)
        /// Nothing listed for the course in that mode and currency; `elsewhere` when the course has prices in
        /// another mode or currency (a storefront that may not set prices cannot pick an unlisted one).
        case unlisted(elsewhere: Bool)
        /// A line without a mode, for a course listed in several: the buyer's mode is not ours to guess.
        case ambiguous(modes: [String])
    }

    /// The price of `courseID` in `mode` and `currency`. A line without a mode takes the course's only listed mode.
    public func lookup(courseID: String, mode: String?, currency: String) -> Lookup {
        let upper = currency.uppercased()
        let candidates = entries.filter { $0.courseID == courseID && $0.currency == upper && (mode == nil || $0.mode == mode) }
        if mode == nil, candidates.count > 1 { return .ambiguous(modes: candidates.map(\.mode).sorted()) }
        if let found = candidates.first { return .listed(found.price, mode: found.mode) }
        return .unlisted(elsewhere: entries.contains { $0.courseID == courseID })
    }

    /// Whether a mode is written as Open edX writes one: letters, digits, "-" and "_".
    public static func isMode(_ mode: String) -> Bool {
        (1...64).contains(mode.count) && mode.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }
    }
}
