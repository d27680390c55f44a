import Crypto
import Foundation
import RegistrarCore

/// An edx-platform-shaped callback, and a signer written against Crypto directly so that the production
/// signer is never its own oracle.
enum CyberSourceFixture {
    static let secret = "callback-secret-key"
    static let profile = CyberSourceProfile(profileID: "0000001", accessKey: "abcd12345", secretKey: Secret(secret))
    static let otherProfile = CyberSourceProfile(profileID: "0000002", accessKey: "efgh67890",
                                                 secretKey: Secret("another-profile-key"))
    /// 2014-08-18T14:07:10Z, the signed_date_time of edx-platform's test callback (`date -u -d … +%s`).
    static let signedAt = Date(timeIntervalSince1970: 1_408_370_830)
    static let now = signedAt.addingTimeInterval(60)
    static let verifier = CallbackVerifier(profiles: ["0000001": profile, "0000002": otherProfile],
                                           replayWindow: .seconds(900))

    /// The signed_field_names of edx-platform's CyberSource2 processor tests.
    static let signedNames = """
        transaction_id,decision,req_access_key,req_profile_id,req_transaction_uuid,req_transaction_type,\
        req_reference_number,req_amount,req_currency,req_locale,req_payment_method,req_override_custom_receipt_page,\
        req_bill_to_forename,req_bill_to_surname,req_bill_to_email,req_bill_to_address_line1,req_bill_to_address_city,\
        req_bill_to_address_state,req_bill_to_address_country,req_bill_to_address_postal_code,req_card_number,\
        req_card_type,req_card_expiry_date,message,reason_code,auth_avs_code,auth_avs_code_raw,auth_response,\
        auth_amount,auth_code,auth_trans_ref_no,auth_time,bill_trans_ref_no,signed_field_names,signed_date_time
        """.split(separator: ",").map(String.init)

    static let acceptValues: [(String, String)] = [
        ("utf8", "✓"),
        ("decision", "ACCEPT"),
        ("req_reference_number", "1"),
        ("req_amount", "10.00"),
        ("auth_amount", "10.00"),
        ("req_card_number", "xxxxxxxxxxxx1111"),
        ("req_bill_to_address_country", "US"),
        ("auth_avs_code", "X"),
        ("req_card_expiry_date", "01-2018"),
        ("bill_trans_ref_no", "85080648RYI23S6I"),
        ("req_bill_to_address_state", "MA"),
        ("payer_authentication_reason_code", "100"),
        ("auth_avs_code_raw", "I1"),
        ("req_transaction_uuid", "ddd9935b82dd403f9aa4ba6ecf021b1f"),
        ("req_bill_to_address_city", "Boston"),
        ("req_bill_to_address_postal_code", "02139"),
        ("auth_response", "100"),
        ("req_card_type", "001"),
        ("req_bill_to_surname", "Doe"),
        ("req_bill_to_forename", "John"),
        ("req_bill_to_address_line1", "123 Fake Street"),
        ("req_bill_to_email", "john@example.com"),
        ("req_payment_method", "card"),
        ("req_override_custom_receipt_page", "http://localhost:8000/shoppingcart/postpay_callback/"),
        ("req_locale", "en"),
        ("auth_trans_ref_no", "85080648RYI23S6I"),
        ("req_transaction_type", "sale"),
        ("auth_code", "888888"),
        ("req_currency", "usd"),
        ("transaction_id", "4083708299660176195663"),
        ("signed_date_time", "2014-08-18T14:07:10Z"),
        ("req_profile_id", "0000001"),
        ("auth_time", "2014-08-18T140710Z"),
        ("message", "Request was processed successfully."),
        ("reason_code", "100"),
        ("req_access_key", "abcd12345"),
    ]

    static var accept: [(String, String)] { sign(acceptValues, names: signedNames) }

    /// HMAC-SHA256 of the data string, computed here with Crypto rather than with the code under test.
    static func hmac(_ message: String, key: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Sets signed_field_names to `names` and appends a signature over them, replacing any earlier ones.
    static func sign(_ pairs: [(String, String)], names: [String], key: String = secret) -> [(String, String)] {
        var fields = pairs.filter { $0.0 != "signature" && $0.0 != "signed_field_names" }
        fields.append(("signed_field_names", names.joined(separator: ",")))
        let data = names.map { name in "\(name)=\(fields.first(where: { $0.0 == name })?.1 ?? "")" }
            .joined(separator: ",")
        fields.append(("signature", hmac(data, key: key)))
        return fields
    }

    static func replacing(_ name: String, with value: String, in pairs: [(String, String)]) -> [(String, String)] {
        pairs.map { $0.0 == name ? (name, value) : $0 }
    }

    static func removing(_ name: String, from pairs: [(String, String)]) -> [(String, String)] {
        pairs.filter { $0.0 != name }
    }

    /// The accept callback with some values changed (or removed, for nil), then signed again properly.
    static func resigned(_ changes: [String: String?], names: [String] = signedNames) -> [(String, String)] {
        var pairs = acceptValues
        for (name, value) in changes {
            if let value {
                pairs = pairs.contains(where: { $0.0 == name })
                    ? replacing(name, with: value, in: pairs) : pairs + [(name, value)]
            } else {
                pairs = removing(name, from: pairs)
            }
        }
        return sign(pairs, names: names)
    }
}

extension Result where Success == VerifiedCallback, Failure == CallbackRejection {
    var rejection: CallbackRejection? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var verified: VerifiedCallback? { try? get() }
}
