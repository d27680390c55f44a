import Foundation

/// What `coupons create` and `POST /api/v1/coupons` must hold before a coupon is kept. Pure.
public enum CouponDefinition {
    /// Upper-cased; nil unless 1 to 32 letters, digits or "-".
    public static func normalizedCode(_ code: String) -> String? {
        let upper = code.trimmingCharacters(in: .whitespaces).uppercased()
        guard (1...32).contains(upper.count), upper.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
        return upper
    }

    /// A coupon from its options, or a sentence naming the option that is wrong.
    /// - Parameters:
    ///   - courses: course run keys, or prefixes ending in "+" (`course-v1:MITx+`).
    ///   - expires: the last day it can be used, YYYY-MM-DD (UTC).
    public static func coupon(code: String, percent: String?, amount: String?, currency: String?, courses: [String],
                              expires: String?, maxUses: Int?) -> Result<Coupon, CouponDefinitionProblem> {
        guard let normalized = normalizedCode(code) else {
            return .failure(.init("code \"\(ControlCharacterEscaping.escaped(String(code.prefix(40))))\" must be 1 to 32 letters, digits or -"))
        }
        let kind: Coupon.Kind
        switch (percent, amount) {
        case (let percent?, nil):
            guard let value = Money.parse(percent), value > 0, value <= 100 else {
                return .failure(.init("percent \"\(ControlCharacterEscaping.escaped(String(percent.prefix(16))))\" must be a number above 0 and at most 100"))
            }
            guard currency == nil else { return .failure(.init("currency goes with amount, not percent")) }
            kind = .percent(value)
        case (nil, let amount?):
            guard let value = Money.parse(amount), value > 0 else {
                return .failure(.init("amount \"\(ControlCharacterEscaping.escaped(String(amount.prefix(32))))\" must be an amount above 0 like 10.00"))
            }
            let upper = (currency ?? "").uppercased()
            guard Money.isCurrencyCode(upper) else {
                return .failure(.init("an amount off needs its currency: a three-letter ISO 4217 code"))
            }
            kind = .amount(CouponRules.cents(value), currency: upper)
        case (nil, nil):
            return .failure(.init("say how much it takes off: percent or amount"))
        case (_?, _?):
            return .failure(.init("percent or amount, not both"))
        }
        for course in courses {
            let prefix = course.hasSuffix("+") && course.hasPrefix("course-v1:") && course.count > "course-v1:".count + 1
            guard prefix || CourseKey(course) != nil else {
                return .failure(.init("course \"\(ControlCharacterEscaping.escaped(String(course.prefix(120))))\" is not a course run key or a prefix ending in + (course-v1:ORG+)"))
            }
        }
        if let expires, CivilCalendar.date(expires) == nil {
            return .failure(.init("expires \"\(ControlCharacterEscaping.escaped(String(expires.prefix(32))))\" is not a day like 2026-12-31"))
        }
        if let maxUses, maxUses < 1 { return .failure(.init("max-uses must be at least 1")) }
        return .success(Coupon(code: normalized, kind: kind, courses: courses, expires: expires, maxUses: maxUses))
    }
}

/// Why a coupon cannot be made, in a sentence naming the option.
public struct CouponDefinitionProblem: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
