/// Keeps primary account numbers out of records and messages: a callback is stored for the record and its
/// rejections are logged, and neither may ever carry a full card number (PCI DSS). The rules are
/// `CardNumberMasking`'s, the same as for every stored body.
enum CardNumberRedaction {
    static let mask = "xxxxxxxxxxxx"

    /// A card-number field's value as recorded. CyberSource sends `req_card_number` masked ("xxxxxxxxxxxx1111");
    /// anything with more than four digits is treated as a card number and cut to its last four.
    static func masked(_ value: String) -> String {
        let digits = Array(value.unicodeScalars.filter { $0.properties.numericType == .decimal })
        guard digits.count > 4 else { return value }
        return mask + String(String.UnicodeScalarView(digits.suffix(4)))
    }

    /// Case-insensitive, as for stored bodies: `req_card_number`, `REQ_CARD_NUMBER`, `cardNumber`…
    static func isCardNumberField(_ name: String) -> Bool {
        CardNumberMasking.isCardNumberField(name)
    }

    /// An untrusted value quoted into a message: bounded in length, one line, its card numbers masked as in a
    /// stored body (Luhn-valid runs of 13–19 digits, with or without separators), and, more cautious still, the
    /// digits of anything holding 12 or more of them (in any script) masked but for the last four.
    static func quoted(_ value: String) -> String {
        let limit = 40
        let value = CardNumberMasking.masked(value)
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
