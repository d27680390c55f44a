import Foundation

/// `--since` of `registrar woocommerce catch-up`: how far back to walk, as a duration ("2d", "12h", "30m", "90s")
/// or a GMT date ("2026-11-20") or date and time ("2026-11-20T13:00:00").
public enum CatchUpSince {
    /// The start instant, or a sentence saying what was expected.
    public static func parse(_ text: String, now: WooModifiedTime) -> Result<WooModifiedTime, Problem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let factor = ["d": 86_400, "h": 3600, "m": 60, "s": 1][String(unit)],
           let amount = Int64(trimmed.dropLast()), amount >= 0, amount <= 3650 * 86_400 {
            return .success(WooModifiedTime(milliseconds: now.milliseconds - amount * Int64(factor) * 1000))
        }
        if trimmed.utf8.count == 10, let day = WooModifiedTime(trimmed + "T00:00:00") { return .success(day) }
        if let instant = WooModifiedTime(trimmed) { return .success(instant) }
        return .failure(Problem(message: "--since \"\(text)\" is neither a duration (2d, 12h, 30m, 90s) nor a GMT date (2026-11-20 or 2026-11-20T13:00:00)"))
    }

    /// Why an operator's option was refused.
    public struct Problem: Error, Sendable, Equatable {
        public var message: String
    }
}
