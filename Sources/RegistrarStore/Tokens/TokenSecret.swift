import Crypto
import Foundation

/// Token values and the hash every backend stores instead of them.
public enum TokenSecret {
    /// A new token value: "rgt_" and 32 random bytes in URL-safe base64.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "rgt_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// SHA-256 of the value, lower-case hex. Tokens are looked up by this, so no comparison ever touches the
    /// secret itself.
    public static func hash(_ token: String) -> String {
        // Every API request hashes its bearer: String(format:) per byte had been 7 % of a redemption's CPU.
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(token.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
