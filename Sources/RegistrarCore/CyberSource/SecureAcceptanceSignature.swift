import Crypto
import Foundation

/// HMAC-SHA256 over "name=value" pairs joined with ",", in the order of signed_field_names; standard base64.
/// The same scheme signs the request a storefront posts and authenticates the callback CyberSource sends back.
public enum SecureAcceptanceSignature {
    public static func sign(fields: [String: String], signedFieldNames: [String], secret: Secret) -> String {
        base64HMAC(dataString(fields, signedFieldNames), secret: secret)
    }

    /// Constant-time check of `fields["signature"]` against the fields listed in `fields["signed_field_names"]`.
    public static func isValid(fields: [String: String], secret: Secret) -> Bool {
        // An empty key is a configuration mistake that would let anyone forge callbacks: fail closed.
        guard !secret.isEmpty,
              let names = fields["signed_field_names"],
              let signature = fields["signature"],
              let claimed = Data(base64Encoded: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(claimed,
                                                      authenticating: Data(dataString(fields, signedFieldNames(names)).utf8),
                                                      using: key(secret))
    }

    /// Split exactly as the peers do (Python's `split(",")`), keeping empty names, so a list that
    /// CyberSource signed is reproduced byte for byte.
    public static func signedFieldNames(_ list: String) -> [String] {
        // By scalar, not Character: "," followed by a combining mark is one grapheme cluster.
        list.unicodeScalars.split(separator: ",", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
    }

    /// A listed field that is absent counts as empty, as in edx-platform and ecommerce; callers that act on a
    /// field must still require it to be present.
    static func dataString(_ fields: [String: String], _ names: [String]) -> String {
        names.map { "\($0)=\(fields[$0] ?? "")" }.joined(separator: ",")
    }

    static func base64HMAC(_ message: String, secret: Secret) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key(secret))).base64EncodedString()
    }

    private static func key(_ secret: Secret) -> SymmetricKey {
        SymmetricKey(data: Data(secret.value.utf8))
    }
}
