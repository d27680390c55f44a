import Foundation

/// Money as CyberSource and WooCommerce write it ("49.00"), parsed without locale and without floating point,
/// so that "49.00" from a callback equals the 49.00 an order was priced at.
public enum Money {
    /// The largest integer part accepted: far beyond any price, small enough that cents fit a UInt64.
    static let maxIntegerDigits = 15

    /// `[-]digits[.digits]` in ASCII. Digits past the second decimal are accepted only when they are zeros
    /// ("49.000"), since anything else is not a whole number of cents. Exponents, signs other than a leading
    /// minus, grouping separators, blanks and non-ASCII digits are rejected.
    /// Whether `code` is written as an ISO 4217 code: three ASCII letters (either case).
    public static func isCurrencyCode(_ code: String) -> Bool {
        code.count == 3 && code.allSatisfy { $0.isASCII && $0.isLetter }
    }

    public static func parse(_ text: String) -> Decimal? {
        var bytes = Array(text.utf8)[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let integer = parts[0]
        let fraction = parts.count > 1 ? parts[1] : nil
        guard !integer.isEmpty, integer.allSatisfy(isDigit) else { return nil }
        if let fraction {
            guard !fraction.isEmpty, fraction.allSatisfy(isDigit),
                  fraction.dropFirst(2).allSatisfy({ $0 == UInt8(ascii: "0") }) else { return nil }
        }
        let significant = integer.drop(while: { $0 == UInt8(ascii: "0") })
        guard significant.count <= maxIntegerDigits else { return nil }
        var cents: UInt64 = 0
        for digit in significant { cents = cents * 10 + UInt64(digit - UInt8(ascii: "0")) }
        let fractionDigits = Array(fraction ?? [])
        for index in 0..<2 {
            let digit = index < fractionDigits.count ? fractionDigits[index] : UInt8(ascii: "0")
            cents = cents * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        // A minus sign on zero would make an NSDecimal NaN, not -0.
        let sign: FloatingPointSign = negative && cents != 0 ? .minus : .plus
        return Decimal(sign: sign, exponent: -2, significand: Decimal(cents))
    }

    /// Two decimals, "." as separator, no grouping, whatever the process locale ("%.2f" without its
    /// floating-point and locale surprises). A third decimal, which orders never carry, rounds half to even
    /// as Python's Decimal formatting does in the peers.
    public static func format(_ amount: Decimal) -> String {
        guard !amount.isNaN else { return "NaN" }
        var value = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 2, .bankers)
        if rounded.isZero { return "0.00" }
        // Decimal's description is locale-independent: "-49.5", "1200", "0.07".
        let text = rounded.description
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return "\(parts[0]).\(fraction)\(String(repeating: "0", count: max(0, 2 - fraction.count)))"
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
