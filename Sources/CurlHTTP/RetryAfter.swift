import Foundation

/// Parsing of the `Retry-After` header (RFC 9110 §10.2.3).
public enum RetryAfter {
    /// The delay the header asks for, measured from `now`.
    ///
    /// A date already in the past yields `.zero` (the server said "after then",
    /// which has happened). Anything unparseable yields nil so the caller falls
    /// back to its own backoff rather than trusting a garbled value.
    public static func parse(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // More digits than Int64 holds is not a real request; a server
            // asking for centuries is treated as garbage, not as "forever".
            guard let seconds = Int64(trimmed) else { return nil }
            return .seconds(seconds)
        }
        guard let epoch = HTTPDate.parse(trimmed) else { return nil }
        let delta = Double(epoch) - now.timeIntervalSince1970
        return delta > 0 ? .milliseconds(Int64((delta * 1000).rounded(.up))) : .zero
    }
}

/// HTTP-date parsing (RFC 9110 §5.6.7) without DateFormatter, which is costly
/// to create and locale-sensitive. Accepts the preferred IMF-fixdate plus the
/// two obsolete forms recipients are required to understand.
public enum HTTPDate {
    /// Seconds since 1970-01-01T00:00:00Z, or nil if `string` is not an HTTP-date.
    ///
    /// - `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate)
    /// - `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850)
    /// - `Sun Nov  6 08:49:37 1994` (asctime)
    public static func parse(_ string: String) -> Int64? {
        let tokens = string
            .split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" })
            .map(String.init)
        guard tokens.count >= 5, weekdays.contains(where: { tokens[0].lowercased().hasPrefix($0) }) else {
            return nil
        }
        let day: Int, month: Int, year: Int, clock: String
        if let asctimeMonth = monthNumber(tokens[1]) {
            guard tokens.count == 5, let d = Int(tokens[2]), let y = Int(tokens[4]), tokens[4].count == 4 else {
                return nil
            }
            (day, month, year, clock) = (d, asctimeMonth, y, tokens[3])
        } else {
            guard tokens.count == 6, tokens[5] == "GMT",
                  let d = Int(tokens[1]), let m = monthNumber(tokens[2]), let y = Int(tokens[3]) else {
                return nil
            }
            switch tokens[3].count {
            case 4: year = y
            // RFC 9110: a two-digit year more than 50 years in the future
            // means the most recent past year with those digits. Pinning the
            // pivot keeps this deterministic; it is right until 2070.
            case 2: year = y < 70 ? 2000 + y : 1900 + y
            default: return nil
            }
            (day, month, clock) = (d, m, tokens[4])
        }
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), let second = Int(parts[2]),
              (0..<24).contains(hour), (0..<60).contains(minute), (0...60).contains(second),
              (1...daysIn(month: month, year: year)).contains(day) else {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func monthNumber(_ token: String) -> Int? {
        guard token.count == 3, let index = months.firstIndex(of: token.lowercased()) else { return nil }
        return index + 1
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil: proleptic Gregorian date to days since
    // the Unix epoch, exact for every year without calendar tables.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
