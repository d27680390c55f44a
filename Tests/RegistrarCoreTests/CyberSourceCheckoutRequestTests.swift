import Foundation
import RegistrarCore
import Testing

@Suite struct CyberSourceCheckoutRequestTests {
    typealias F = CyberSourceFixture
    /// 2026-11-21T10:00:00.750Z: the fraction must not leak into signed_date_time.
    let signedAt = Date(timeIntervalSince1970: 1_795_255_200.75)

    func request(amount: Decimal = 49, email: String? = nil, extra: [String: String] = [:]) -> CheckoutRequest {
        CheckoutRequest(profile: F.profile, referenceNumber: "REG-1001", amount: amount, currency: "USD",
                        transactionUUID: "ddd9935b82dd403f9aa4ba6ecf021b1f", signedDateTime: signedAt, email: email,
                        extraSigned: extra)
    }

    @Test func fieldsVerifyWithTheProfileSecret() {
        let fields = request(email: "john@example.com").fields
        #expect(SecureAcceptanceSignature.isValid(fields: fields, secret: F.profile.secretKey))
        #expect(!SecureAcceptanceSignature.isValid(fields: fields, secret: F.otherProfile.secretKey))
        var tampered = fields
        tampered["amount"] = "0.01"
        #expect(!SecureAcceptanceSignature.isValid(fields: tampered, secret: F.profile.secretKey))
    }

    @Test func signatureMatchesAnIndependentHMAC() throws {
        let fields = request().fields
        let names = try #require(fields["signed_field_names"]).split(separator: ",").map(String.init)
        let data = names.map { "\($0)=\(fields[$0] ?? "")" }.joined(separator: ",")
        #expect(fields["signature"] == F.hmac(data, key: F.secret))
    }

    @Test func carriesEveryFieldCyberSourceRequires() throws {
        let fields = request().fields
        let signed = Set(try #require(fields["signed_field_names"]).split(separator: ",").map(String.init))
        for name in ["access_key", "amount", "currency", "locale", "profile_id", "reference_number",
                     "signed_date_time", "signed_field_names", "transaction_type", "transaction_uuid",
                     "unsigned_field_names"] {
            #expect(fields[name] != nil, "\(name) is missing")
            #expect(signed.contains(name), "\(name) is not signed")
        }
        #expect(fields["access_key"] == "abcd12345")
        #expect(fields["profile_id"] == "0000001")
        #expect(fields["transaction_uuid"] == "ddd9935b82dd403f9aa4ba6ecf021b1f")
        #expect(fields["transaction_type"] == "sale")
        #expect(fields["reference_number"] == "REG-1001")
        #expect(fields["amount"] == "49.00")
        #expect(fields["currency"] == "USD")
        #expect(fields["locale"] == "en")
        #expect(fields["unsigned_field_names"] == "")
        #expect(fields["signed_date_time"] == "2026-11-21T10:00:00Z")
        #expect(fields["signature"] != nil)
        #expect(!signed.contains("signature"))
        #expect(fields["bill_to_email"] == nil)
    }

    @Test func amountIsFormattedWithTwoDecimals() {
        #expect(request(amount: 49).fields["amount"] == "49.00")
        #expect(request(amount: Decimal(sign: .plus, exponent: -1, significand: 495)).fields["amount"] == "49.50")
        #expect(request(amount: Decimal(sign: .plus, exponent: -2, significand: 123_456_789)).fields["amount"]
            == "1234567.89")
        #expect(request(amount: Decimal(sign: .plus, exponent: -2, significand: 7)).fields["amount"] == "0.07")
    }

    @Test func emailIsSignedAsBillTo() throws {
        let fields = request(email: "john@example.com").fields
        #expect(fields["bill_to_email"] == "john@example.com")
        #expect(try #require(fields["signed_field_names"]).split(separator: ",").contains("bill_to_email"))
    }

    @Test func cardFieldsAreNeverSigned() throws {
        let fields = request(extra: ["card_number": "4111111111111111", "card_cvn": "123", "card_type": "001",
                                     "card_expiry_date": "01-2030"]).fields
        let signed = try #require(fields["signed_field_names"]).split(separator: ",").map(String.init)
        #expect(!signed.contains { $0.hasPrefix("card_") })
        #expect(!fields.keys.contains { $0.hasPrefix("card_") })
        #expect(!fields.values.contains { $0.contains("4111111111111111") })
    }

    @Test func extraSignedFieldsAreAddedButCannotOverrideTheCore() throws {
        let fields = request(extra: [
            "merchant_defined_data1": "course-v1:edX+DemoX+Demo_Course",
            "override_custom_receipt_page": "https://shop.example.com/receipt",
            "amount": "0.01", "signature": "forged", "transaction_type": "authorization",
            "a,b": "comma", "x=y": "equals", "": "empty",
        ]).fields
        let signed = try #require(fields["signed_field_names"]).split(separator: ",").map(String.init)
        #expect(fields["merchant_defined_data1"] == "course-v1:edX+DemoX+Demo_Course")
        #expect(signed.contains("merchant_defined_data1") && signed.contains("override_custom_receipt_page"))
        #expect(fields["amount"] == "49.00")
        #expect(fields["transaction_type"] == "sale")
        #expect(fields["a,b"] == nil && fields["x=y"] == nil && fields[""] == nil)
        #expect(Set(signed).count == signed.count)
        #expect(SecureAcceptanceSignature.isValid(fields: fields, secret: F.profile.secretKey))
    }
}
