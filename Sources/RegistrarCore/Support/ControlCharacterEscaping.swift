/// Text from outside (an email, a store id, an error from a peer) written into a one-line-per-event log: a
/// line break in it would start a forged log line, and other control characters can rewrite a terminal.
/// They become visible escapes (`\n`, `\r`, `\t`, `\u{1B}`); everything else is kept as it is.
public enum ControlCharacterEscaping {
    public static func escaped(_ text: String) -> String {
        // Most values have nothing to escape: one pass over the bytes, no copy.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == 0xc2 || $0 == 0xe2 }),
              text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else { out.append(scalar); continue }
            switch scalar {
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default: out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            }
        }
        return String(out)
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators some viewers break lines at.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// True when `text` holds a character `escaped` would escape.
    public static func containsControl(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: needsEscape)
    }
}
