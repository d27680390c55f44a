import Foundation

/// Which price an order line is sold at, given the price list: a storefront that sends none takes the listed
/// price; one that sends another is refused unless its token may set prices; a course with no listed price needs
/// one sent. Pure.
public enum PriceRules {
    public enum Verdict: Sendable, Equatable {
        case price(Decimal)
        /// 422 `price_mismatch`.
        case mismatch(String)
        /// 422: nothing sent, nothing listed.
        case missing(String)
    }

    /// - Parameters:
    ///   - sent: the line's `unit_price`, parsed (nil when the line has none).
    ///   - listed: the listed price of the course run and mode in the order's currency, if any.
    public static func resolve(sent: Decimal?, listed: Decimal?, maySetPrices: Bool, courseID: String, mode: String?,
                               currency: String) -> Verdict {
        let what = "\(courseID)" + (mode.map { " (\($0))" } ?? "")
        switch (sent, listed) {
        case (nil, nil):
            return .missing("no price is listed for \(what) in \(currency): send unit_price")
        case (nil, let listed?):
            return .price(listed)
        case (let sent?, let listed?) where sent != listed && !maySetPrices:
            return .mismatch("\(what) is listed at \(Money.format(listed)) \(currency), not \(Money.format(sent)) (this token may not set prices)")
        case (let sent?, _):
            return .price(sent)
        }
    }
}
