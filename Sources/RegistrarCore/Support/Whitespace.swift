import Foundation

extension StringProtocol {
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` without Foundation's CharacterSet, which costs more than
    /// the rest of mapping an order line. The same scalars are trimmed — Unicode's White_Space (the Z categories,
    /// tab to carriage return, U+0085) plus U+200B ZERO WIDTH SPACE, which Foundation counts too — scalar by
    /// scalar as Foundation does; a test holds the two together over every scalar.
    public var trimmingWhitespace: String {
        // Only the ends are looked at: visible ASCII at both (an email, a course key, a SKU) means nothing to
        // trim, found without walking scalars and their Unicode properties.
        let scalars = unicodeScalars
        if let first = scalars.first, let last = scalars.last, (0x21...0x7E).contains(first.value),
           (0x21...0x7E).contains(last.value) {
            return String(self)
        }
        guard let first = scalars.firstIndex(where: { !Self.isTrimmed($0) }),
              let last = scalars.lastIndex(where: { !Self.isTrimmed($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    private static func isTrimmed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || scalar == "\u{200B}"
    }
}

extension String {
    /// `trimmingCharacters(in: .whitespaces)`, without Foundation when both ends are visible ASCII — every
    /// header value a well-behaved sender writes — so the per-request cost is two byte checks.
    public var trimmingSpaces: String {
        if let first = utf8.first, let last = utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) {
            return self
        }
        return trimmingCharacters(in: .whitespaces)
    }
}
