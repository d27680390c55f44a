/// WooCommerce's `date_modified_gmt` as an instant. The REST API writes "2026-11-20T13:00:00"; older stores and
/// plugins write "2026-11-20 13:00:00", sometimes with fractions or a zone suffix. Compared as text, the space
/// sorts before the "T", so a newer state could be taken for an older one: instants are compared instead.
public struct WooModifiedTime: Comparable, Sendable, Hashable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let milliseconds: Int64

    /// nil for anything that is not a date and time of the day (the value is then treated as unknown).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "t"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var index = 19
        var fraction = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                if digits < 3 { fraction = fraction * 10 + Int(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { fraction *= 10 } }
        }
        // The field is GMT by name; a "Z" or "+00:00" says so again, any other offset is applied.
        var offsetSeconds = 0
        if index < bytes.count {
            let rest = String(decoding: bytes[index...], as: UTF8.self)
            if rest == "Z" || rest == "z" {
                offsetSeconds = 0
            } else if rest.utf8.count == 6, let sign = rest.first, sign == "+" || sign == "-",
                      let hours = Int(rest.dropFirst().prefix(2)), rest.dropFirst(3).first == ":",
                      let minutes = Int(rest.suffix(2)), hours < 24, minutes < 60 {
                offsetSeconds = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
            } else {
                return nil
            }
        }
        let days = CivilCalendar.days(fromCivil: year, month, day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        milliseconds = seconds * 1000 + Int64(fraction)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// "2026-11-20T13:00:00" (with ".250" when there are milliseconds): how the order's memory keeps it.
    public var canonical: String {
        let (days, inDay) = CivilCalendar.floorDivision(Int(milliseconds), by: 86_400_000)
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = "\(year)-\(two(month))-\(two(day))T\(two(inDay / 3_600_000)):\(two(inDay / 60_000 % 60)):\(two(inDay / 1000 % 60))"
        let millis = inDay % 1000
        if millis > 0 { text += "." + (millis < 10 ? "00" : millis < 100 ? "0" : "") + "\(millis)" }
        return text
    }
}
