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

/// The form body of a CyberSource callback as it may be stored: never with a full card number.
public enum CallbackBodyRedaction {
    /// As received, unless a card-number field carries more than its last four digits (CyberSource masks
    /// them, so it never should), which are then masked. A body that is not even form encoding has every run
    /// of 12 or more digits masked, since its fields cannot be told apart.
    public static func storable(_ body: [UInt8]) -> [UInt8] {
        guard let fields = FormEncoding.decode(String(decoding: body, as: UTF8.self)) else { return maskingLongDigitRuns(body) }
        var changed = false
        let masked = fields.map { name, value -> (String, String) in
            guard CardNumberRedaction.isCardNumberField(name) else { return (name, value) }
            let redacted = CardNumberRedaction.masked(value)
            if redacted != value { changed = true }
            return (name, redacted)
        }
        return changed ? Array(FormEncoding.encode(masked).utf8) : body
    }

    static func maskingLongDigitRuns(_ body: [UInt8]) -> [UInt8] {
        var out = body
        var runStart: Int?
        func close(_ end: Int) {
            if let start = runStart, end - start >= 12 {
                for index in start..<(end - 4) { out[index] = UInt8(ascii: "x") }
            }
            runStart = nil
        }
        for (index, byte) in body.enumerated() {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if runStart == nil { runStart = index }
            } else {
                close(index)
            }
        }
        close(body.count)
        return out
    }
}
