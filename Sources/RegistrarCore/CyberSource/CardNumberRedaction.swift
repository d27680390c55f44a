/// Keeps primary account numbers out of records and messages: a callback is stored for the record and its
/// rejections are logged, and neither may ever carry a full card number (PCI DSS).
enum CardNumberRedaction {
    static let mask = "xxxxxxxxxxxx"

    /// CyberSource sends `req_card_number` masked ("xxxxxxxxxxxx1111"); anything with more than four digits
    /// is treated as a card number and cut to its last four.
    static func masked(_ value: String) -> String {
        let digits = Array(value.unicodeScalars.filter { $0.properties.numericType == .decimal })
        guard digits.count > 4 else { return value }
        return mask + String(String.UnicodeScalarView(digits.suffix(4)))
    }

    static func isCardNumberField(_ name: String) -> Bool {
        name.hasSuffix("card_number")
    }

    /// An untrusted value quoted into a message: bounded in length, one line, and with the digits of
    /// anything long enough to be a card number masked.
    static func quoted(_ value: String) -> String {
        let limit = 40
        let digitCount = value.unicodeScalars.filter { $0.properties.numericType == .decimal }.count
        var kept = digitCount
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            if scalar.properties.numericType == .decimal {
                // Mask every digit but the last four when there are enough of them to be a PAN.
                out.append(digitCount >= 12 && kept > 4 ? "x" : scalar)
                kept -= 1
            } else if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                out.append("?")
            } else {
                out.append(scalar)
            }
        }
        let text = String(out)
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}
