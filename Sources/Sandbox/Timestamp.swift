import Foundation

/// ISO 8601 in the forms the real services write and accept.
enum Timestamp {
    /// DRF renders datetimes with fractional seconds and `Z`.
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// WooCommerce's `*_gmt` fields: no fraction, no zone designator.
    static func formatWoo(_ date: Date) -> String {
        String(date.formatted(Date.ISO8601FormatStyle()).dropLast())
    }

    /// Accepts with or without fractional seconds and zone (no zone means UTC, as WooCommerce's
    /// `_gmt` fields are) and date-only values.
    static func parse(_ text: String) -> Date? {
        var value = text.trimmingCharacters(in: .whitespaces)
        if value.isEmpty { return nil }
        if value.count == 10 { value += "T00:00:00" }
        let hasZone = value.hasSuffix("Z") || value.range(of: #"[+-]\d\d:?\d\d$"#, options: .regularExpression) != nil
        if !hasZone { value += "Z" }
        if let date = try? Date(value, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(value, strategy: Date.ISO8601FormatStyle())
    }
}
