import Foundation

/// The signed request fields a storefront posts to the hosted checkout (the storefront never holds the secret).
public struct CheckoutRequest: Sendable {
    /// All fields including signed_field_names, unsigned_field_names, signed_date_time (UTC, %Y-%m-%dT%H:%M:%SZ),
    /// transaction_type=sale, amount formatted "%.2f" (no locale surprises: "49.00"), and `signature`.
    public let fields: [String: String]
    /// The order in which the fields were signed: the value of signed_field_names, split.
    public let signedFieldNames: [String]

    /// `extraSigned` adds optional signed fields (override_custom_receipt_page, merchant_defined_dataN,
    /// bill_to_*). It cannot replace a field set here, and names CyberSource or the signature scheme cannot
    /// carry safely are left out: card_* (card data is entered on CyberSource's page and is never signed),
    /// names containing "," or "=" (they would corrupt the signed data string), and the empty name.
    public init(profile: CyberSourceProfile, referenceNumber: String, amount: Decimal, currency: String,
                transactionUUID: String, signedDateTime: Date, locale: String = "en", email: String? = nil,
                extraSigned: [String: String] = [:]) {
        var ordered: [(String, String)] = [
            ("access_key", profile.accessKey),
            ("profile_id", profile.profileID),
            ("transaction_uuid", transactionUUID),
            ("signed_field_names", ""),
            ("unsigned_field_names", ""),
            ("signed_date_time", SignedDateTime.format(signedDateTime)),
            ("locale", locale),
            ("transaction_type", "sale"),
            ("reference_number", referenceNumber),
            ("amount", Money.format(amount)),
            ("currency", currency),
        ]
        if let email, !email.isEmpty { ordered.append(("bill_to_email", email)) }
        let taken = Set(ordered.map(\.0)).union(["signature"])
        for (name, value) in extraSigned.sorted(by: { $0.key < $1.key })
        where !taken.contains(name) && Self.maySign(name) {
            ordered.append((name, value))
        }
        let names = ordered.map(\.0)
        var fields = Dictionary(ordered, uniquingKeysWith: { first, _ in first })
        fields["signed_field_names"] = names.joined(separator: ",")
        fields["signature"] = SecureAcceptanceSignature.sign(fields: fields, signedFieldNames: names,
                                                             secret: profile.secretKey)
        self.fields = fields
        self.signedFieldNames = names
    }

    static func maySign(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("card_") && !name.contains(",") && !name.contains("=")
    }
}
