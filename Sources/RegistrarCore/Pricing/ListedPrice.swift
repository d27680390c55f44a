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
        guard (1...64).contains(mode.count), mode.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
            return "mode \"\(ControlCharacterEscaping.escaped(String(mode.prefix(64))))\" is not a course mode like verified"
        }
        let upper = currency.uppercased()
        guard upper.count == 3, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else {
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
        case listed(Decimal)
        case unlisted
        /// A line without a mode, for a course listed in several: the buyer's mode is not ours to guess.
        case ambiguous(modes: [String])
    }

    /// The price of `courseID` in `mode` and `currency`. A line without a mode takes the course's only listed mode.
    public func lookup(courseID: String, mode: String?, currency: String) -> Lookup {
        let upper = currency.uppercased()
        let candidates = entries.filter { $0.courseID == courseID && $0.currency == upper && (mode == nil || $0.mode == mode) }
        if mode == nil, candidates.count > 1 { return .ambiguous(modes: candidates.map(\.mode).sorted()) }
        return candidates.first.map { .listed($0.price) } ?? .unlisted
    }
}
