import Foundation

/// The one textual form of instants that Registrar prints and parses: ISO 8601 in UTC.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// Accepts a full timestamp (`2026-11-21T10:00:00Z`, fractional seconds allowed), a date (`2026-11-21`,
    /// midnight UTC), or a relative age (`90s`, `15m`, `2h`, `3d` ago from `now`) — what an operator types.
    public static func parse(_ text: String, now: Date = Date()) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let amount = Double(trimmed.dropLast()), amount >= 0 {
            let multiplier: Double? = switch unit {
            case "s": 1
            case "m": 60
            case "h": 3600
            case "d": 86400
            default: nil
            }
            if let multiplier { return now.addingTimeInterval(-amount * multiplier) }
        }
        if let date = try? Date(trimmed, strategy: .iso8601) { return date }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? fractional.parse(trimmed) { return date }
        let dayOnly = Date.ISO8601FormatStyle().year().month().day()
        if let date = try? dayOnly.parse(trimmed) { return date }
        return nil
    }
}
