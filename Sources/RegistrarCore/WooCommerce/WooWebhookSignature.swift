import Crypto
import Foundation

/// `X-WC-Webhook-Signature`: base64(HMAC-SHA256(raw body bytes, secret)).
public enum WooWebhookSignature {
    /// True only when `signature` is the MAC of exactly these bytes. Never throws: a request that cannot be
    /// verified is simply not authentic.
    public static func isValid(body: [UInt8], signature: String?, secret: Secret) -> Bool {
        Verifier(secret: secret).isValid(body: body, signature: signature)
    }

    /// One store's key, made ready once: deriving it (the entity decoding, HMAC's padded key blocks) cost as
    /// much as hashing a whole order.
    public struct Verifier: @unchecked Sendable {
        // Unchecked: HMAC is not marked Sendable, but it is a value whose hash contexts are copied on write,
        // so each verification works on its own copy and this one is only ever read.
        private let prepared: HMAC<SHA256>?

        public init(secret: Secret) {
            // An empty secret would let anyone who can compute HMAC with an empty key forge deliveries.
            prepared = secret.isEmpty ? nil : HMAC<SHA256>(key: WooWebhookSignature.key(secret))
        }

        public func isValid(body: [UInt8], signature: String?) -> Bool {
            guard var authenticator = prepared, let signature else { return false }
            let text = signature.trimmingSpaces
            guard !text.isEmpty, let mac = Data(base64Encoded: text), mac.count == SHA256.byteCount else { return false }
            authenticator.update(data: body)
            // MAC equality is Crypto's constant-time comparison, so response timing does not reveal how many
            // bytes matched.
            return authenticator.finalize() == mac
        }
    }

    public static func sign(body: [UInt8], secret: Secret) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: key(secret))).base64EncodedString()
    }

    /// WooCommerce signs with `wp_specialchars_decode($secret, ENT_QUOTES)`: the secret is stored HTML-escaped,
    /// so a secret typed as `a&b` is kept as `a&amp;b` and signs as `a&b`.
    static func key(_ secret: Secret) -> SymmetricKey {
        SymmetricKey(data: Array(specialCharsDecoded(secret.value).utf8))
    }

    /// PHP's `wp_specialchars_decode(…, ENT_QUOTES)`: one left-to-right pass (`&amp;lt;` gives `&lt;`, not `<`)
    /// over the five special characters in their named, decimal (any leading zeros) and hex forms.
    static func specialCharsDecoded(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")) else { return text }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "&", let (decoded, length) = entity(in: scalars, at: index) {
                result.append(decoded)
                index += length
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }

    private static let named: [String: Unicode.Scalar] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\""]
    // WordPress decodes only these numeric forms; `&#x3c;` for example stays as written.
    private static let decimal: Set<UInt32> = [0x26, 0x3C, 0x3E, 0x22, 0x27]
    private static let hex: Set<UInt32> = [0x26, 0x22, 0x27]

    /// The character an entity starting at `start` (an `&`) stands for, and the entity's length.
    private static func entity(in scalars: [Unicode.Scalar], at start: Int) -> (Unicode.Scalar, Int)? {
        guard let end = scalars[start...].firstIndex(of: ";") else { return nil }
        let body = String(String.UnicodeScalarView(scalars[(start + 1)..<end]))
        let length = end - start + 1
        if let scalar = named[body] { return (scalar, length) }
        guard body.hasPrefix("#") else { return nil }
        var digits = body.dropFirst()
        var allowed = decimal
        var radix = 10
        if digits.first == "x" || digits.first == "X" {
            digits = digits.dropFirst()
            allowed = hex
            radix = 16
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && (radix == 16 ? $0.isHexDigit : $0.isNumber) }),
              let value = UInt32(digits, radix: radix), allowed.contains(value),
              let scalar = Unicode.Scalar(value)
        else { return nil }
        return (scalar, length)
    }
}
