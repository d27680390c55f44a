import Foundation
@testable import RegistrarCore
import Testing

@Suite struct CyberSourceSignatureTests {
    @Test func rawHMACMatchesTheKnownVector() {
        let expected = "qU4fRskS/R9yZx/yPq62sFGOUzX0GSUtmeI6bPVsqao="
        #expect(SecureAcceptanceSignature.base64HMAC("This is a super-secret message!", secret: Secret("password"))
            == expected)
        // The tests' own signer must agree too, or it could not serve as an independent oracle.
        #expect(CyberSourceFixture.hmac("This is a super-secret message!", key: "password") == expected)
    }

    @Test func fieldSignatureMatchesTheKnownVector() {
        let fields = ["field_1": "123", "field_2": "abc", "signed_field_names": "field_1,field_2,signed_field_names"]
        let names = ["field_1", "field_2", "signed_field_names"]
        let expected = "uqA17JTdq5/wyD8wGJIgdBsR8jeKtRm74eYwECf7XU8="
        #expect(SecureAcceptanceSignature.sign(fields: fields, signedFieldNames: names,
                                               secret: Secret("fake-secret-key")) == expected)
        var signed = fields
        signed["signature"] = expected
        #expect(SecureAcceptanceSignature.isValid(fields: signed, secret: Secret("fake-secret-key")))
        #expect(!SecureAcceptanceSignature.isValid(fields: signed, secret: Secret("fake-secret-kez")))
    }

    @Test func orderOfSignedNamesMatters() {
        let fields = ["field_1": "123", "field_2": "abc"]
        let key = Secret("fake-secret-key")
        #expect(SecureAcceptanceSignature.sign(fields: fields, signedFieldNames: ["field_1", "field_2"], secret: key)
            != SecureAcceptanceSignature.sign(fields: fields, signedFieldNames: ["field_2", "field_1"], secret: key))
    }

    @Test func rejectsWhatIsNotAProperSignature() {
        let key = Secret("fake-secret-key")
        let base = ["field_1": "123", "signed_field_names": "field_1,signed_field_names"]
        let good = SecureAcceptanceSignature.sign(fields: base, signedFieldNames: ["field_1", "signed_field_names"],
                                                  secret: key)
        func valid(_ signature: String?, _ secret: Secret = key) -> Bool {
            var fields = base
            fields["signature"] = signature
            return SecureAcceptanceSignature.isValid(fields: fields, secret: secret)
        }
        #expect(valid(good))
        #expect(!valid(nil))
        #expect(!valid(""))
        #expect(!valid(String(good.dropLast(2))))
        #expect(!valid(good + good))
        #expect(!valid("not base64 at all!"))
        #expect(!valid(Data(repeating: 0, count: 32).base64EncodedString()))
        // An empty key would make every callback forgeable: never valid, even when "correctly" signed.
        let emptyKeySigned = SecureAcceptanceSignature.sign(fields: base,
                                                            signedFieldNames: ["field_1", "signed_field_names"],
                                                            secret: Secret(""))
        #expect(!valid(emptyKeySigned, Secret("")))
        // Without signed_field_names there is nothing to check the signature against.
        #expect(!SecureAcceptanceSignature.isValid(fields: ["field_1": "123", "signature": good], secret: key))
    }
}
