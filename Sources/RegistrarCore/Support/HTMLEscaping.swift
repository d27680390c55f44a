/// Text put into HTML: `& < > " '` become entities, so nothing a visitor typed (a code, an email) can become
/// markup on the page that shows it back.
public enum HTMLEscaping {
    public static func escaped(_ text: String) -> String {
        // Most text (ids, dates, states) has nothing to escape: returned as it is, without a walk by characters.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">")
                                          || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
