import Foundation

/// A discount a storefront's order can name (`"coupon": "CODE"`): percent off, or an amount off each line it
/// applies to, limited to some course runs, until a day, for a number of uses.
public struct Coupon: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// 1…100 percent off each line.
        case percent(Decimal)
        /// This much off each line, in this currency (never more than the line).
        case amount(Decimal, currency: String)
    }

    /// Upper-cased letters, digits and "-": what a buyer types.
    public var code: String
    public var kind: Kind
    /// Course run ids (or prefixes ending in "+") it applies to; empty: every course.
    public var courses: [String]
    /// The last day it can be used (UTC, included); nil: no end.
    public var expires: String?
    /// nil: unlimited.
    public var maxUses: Int?
    public var active: Bool

    public init(code: String, kind: Kind, courses: [String] = [], expires: String? = nil, maxUses: Int? = nil, active: Bool = true) {
        self.code = code
        self.kind = kind
        self.courses = courses
        self.expires = expires
        self.maxUses = maxUses
        self.active = active
    }

    /// "20%" or "10.00 USD": what it takes off each line.
    public var off: String {
        switch kind {
        case .percent(let percent): "\(percent)%"
        case .amount(let amount, let currency): "\(Money.format(amount)) \(currency)"
        }
    }

    public func covers(_ courseID: String) -> Bool {
        courses.isEmpty || courses.contains { $0 == courseID || ($0.hasSuffix("+") && courseID.hasPrefix($0)) }
    }
}

/// Why a coupon cannot be used on an order: the 422 code and its sentence.
public struct CouponRefusal: Error, Sendable, Equatable {
    public var code: String
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// The coupon arithmetic and its checks. Pure: the store reserves the use in the order's commit.
public enum CouponRules {
    /// What a coupon takes off one line.
    public struct Line: Sendable, Equatable {
        public var courseID: String
        public var unitPrice: Decimal
        public var quantity: Int

        public init(courseID: String, unitPrice: Decimal, quantity: Int) {
            self.courseID = courseID
            self.unitPrice = unitPrice
            self.quantity = quantity
        }

        public var gross: Decimal { unitPrice * Decimal(quantity) }
    }

    /// Whether `coupon` can be used on an order of `lines` in `currency` on `day` (YYYY-MM-DD, UTC) with `uses`
    /// uses held already. The order of the checks is the order a buyer would want to hear them in.
    public static func check(_ coupon: Coupon?, code: String, lines: [Line], currency: String, day: String, uses: Int) -> CouponRefusal? {
        guard let coupon else { return CouponRefusal("coupon_unknown", "no coupon \(code)") }
        guard coupon.active else { return CouponRefusal("coupon_inactive", "coupon \(coupon.code) was deactivated") }
        if let expires = coupon.expires, day > expires {
            return CouponRefusal("coupon_expired", "coupon \(coupon.code) expired on \(expires)")
        }
        if let max = coupon.maxUses, uses >= max {
            return CouponRefusal("coupon_exhausted", "coupon \(coupon.code) has been used \(max) \(max == 1 ? "time" : "times"), its limit")
        }
        guard lines.contains(where: { coupon.covers($0.courseID) }) else {
            return CouponRefusal("coupon_out_of_scope", "coupon \(coupon.code) does not apply to \(lines.map(\.courseID).joined(separator: ", "))")
        }
        if case .amount(_, let couponCurrency) = coupon.kind, couponCurrency.uppercased() != currency.uppercased() {
            return CouponRefusal("coupon_currency", "coupon \(coupon.code) is in \(couponCurrency), the order in \(currency)")
        }
        return nil
    }

    /// The discount on each line, in order: half-up to the cent, never more than the line, 0 on lines it does
    /// not cover.
    public static func discounts(_ coupon: Coupon, lines: [Line]) -> [Decimal] {
        lines.map { line in
            guard coupon.covers(line.courseID), line.gross > 0 else { return 0 }
            switch coupon.kind {
            case .percent(let percent):
                return min(line.gross, cents(line.gross * min(max(percent, 0), 100) / 100))
            case .amount(let amount, _):
                return min(line.gross, max(0, amount))
            }
        }
    }

    /// An order's items with the coupon's discount on each line (`discount`, nil where it takes nothing off) and
    /// the total left to pay, or why the coupon cannot be used.
    public static func apply(_ coupon: Coupon?, code: String, to items: [OrderItem], currency: String, day: String,
                             uses: Int) -> Result<(items: [OrderItem], total: Decimal), CouponRefusal> {
        let lines = items.map { Line(courseID: $0.courseID, unitPrice: Money.parse($0.unitPrice) ?? 0, quantity: $0.quantity) }
        if let refusal = check(coupon, code: code, lines: lines, currency: currency, day: day, uses: uses) { return .failure(refusal) }
        guard let coupon else { return .failure(CouponRefusal("coupon_unknown", "no coupon \(code)")) }
        let discounts = discounts(coupon, lines: lines)
        var discounted = items
        for index in discounted.indices {
            discounted[index].discount = discounts[index] > 0 ? Money.format(discounts[index]) : nil
        }
        let total = zip(lines, discounts).reduce(Decimal(0)) { $0 + $1.0.gross - $1.1 }
        return .success((discounted, total))
    }

    public static func cents(_ value: Decimal) -> Decimal {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, 2, .plain)
        return output
    }
}
