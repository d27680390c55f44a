import Foundation
import RegistrarCore
import Testing

@Suite struct WhitespaceTests {
    /// Every scalar Foundation counts as whitespace or newline, and a sample of those it does not, at both ends,
    /// inside, and next to combining marks (trimming is by scalar, not by character).
    @Test func trimsExactlyWhatFoundationTrims() {
        var pieces: [String] = ["a", "é", "e\u{301}", "\u{301}", "😀", "👩‍👩‍👧", "ß", "x y", "\u{200B}", "\u{FEFF}", "\u{180E}", ""]
        for value in 0...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if CharacterSet.whitespacesAndNewlines.contains(scalar) || (value < 0x3100 && value % 97 == 0) {
                pieces.append(String(scalar))
            }
        }
        var generator = SplitMix64(seed: 20261121)
        var mismatches: [String] = []
        for _ in 0..<10_000 {
            let text = (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let expected = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.trimmingWhitespace != expected { mismatches.append(text.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " ")) }
            if text[...].trimmingWhitespace != expected { mismatches.append("substring: \(text)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ, e.g. \(mismatches.prefix(5))")
    }

    @Test func trimmingSpacesIsFoundationsWhitespaceTrim() {
        for text in ["abc", " abc", "abc ", "\tabc\t", "a b", "", " ", "\n abc \n", "\u{00A0}x", "x\u{3000}", "é", " é ", "~!", "a\u{7F}"] {
            #expect(text.trimmingSpaces == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
        }
    }
}
