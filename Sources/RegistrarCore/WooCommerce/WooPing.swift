/// The request WooCommerce sends when a webhook is saved active: form body `webhook_id=<id>`, no X-WC headers,
/// no signature. It must be answered with exactly 200, or the admin sees an error.
public enum WooPing {
    /// The webhook id when `body` is a ping body, else nil.
    public static func webhookID(body: [UInt8]) -> Int? {
        let prefix = Array("webhook_id=".utf8)
        guard body.count > prefix.count, body.starts(with: prefix) else { return nil }
        let digits = body[prefix.count...]
        // Only the exact shape: anything else is a real delivery and must go through signature checks.
        guard digits.count <= 18, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(String(decoding: digits, as: UTF8.self))
    }
}
