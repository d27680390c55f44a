/// The headers a rejected delivery keeps. Intake keeps only the headers an operator needs (the X-WC-Webhook-*
/// family, User-Agent, Content-Type), but for a rejected delivery their values are the sender's choice: without
/// a bound, many long X-WC-Webhook-* headers would store what the 4 KiB body cut no longer does.
public enum StoredHeaders {
    public static let maxCount = 16
    public static let maxValueBytes = 256

    /// At most `maxCount` headers (by name order), each value cut to `maxValueBytes` (on a character boundary,
    /// marked with "…").
    public static func rejected(_ headers: [String: String]) -> [String: String] {
        guard headers.count > maxCount || headers.values.contains(where: { $0.utf8.count > maxValueBytes }) else {
            return headers
        }
        var kept: [String: String] = [:]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }).prefix(maxCount) {
            kept[String(name.prefix(64))] = cut(value)
        }
        return kept
    }

    static func cut(_ value: String) -> String {
        guard value.utf8.count > maxValueBytes else { return value }
        var out = ""
        for character in value {
            if out.utf8.count + character.utf8.count > maxValueBytes - 3 { break }
            out.append(character)
        }
        return out + "…"
    }
}
