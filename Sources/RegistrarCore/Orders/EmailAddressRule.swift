/// Whether text a storefront sends as a buyer's email can be used as one. It is signed into the checkout
/// (`bill_to_email`), logged, and becomes half of a serial key, so it must be one line of printable text.
public enum EmailAddressRule {
    /// nil when `text` is usable, else what is wrong with it (the text itself quoted with its controls escaped).
    public static func problem(_ text: String) -> String? {
        let shown = "\"" + ControlCharacterEscaping.escaped(String(text.prefix(80))) + "\""
        if ControlCharacterEscaping.containsControl(text) {
            return "email \(shown) contains a line break or another control character"
        }
        let email = normalizedEmail(text)
        if email.contains(where: \.isWhitespace) { return "email \(shown) contains a space" }
        guard email.utf8.count <= 254 else { return "email is longer than 254 bytes" }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return "email \(shown) is not an email address"
        }
        return nil
    }
}
