import Foundation
import RegistrarCore
import Testing

@Suite struct CyberSourceCallbackTests {
    typealias F = CyberSourceFixture
    let verifier = F.verifier

    func verify(_ pairs: [(String, String)], now: Date = F.now) -> Result<VerifiedCallback, CallbackRejection> {
        verifier.verify(pairs, now: now)
    }

    @Test func edxShapedAcceptVerifies() throws {
        let callback = try verify(F.accept).get()
        #expect(callback.profileID == "0000001")
        #expect(callback.referenceNumber == "1")
        #expect(callback.transactionID == "4083708299660176195663")
        #expect(callback.currency == "usd")
        #expect(callback.decision == .accept)
        #expect(callback.requestAmount == Decimal(10))
        #expect(callback.authAmount == Decimal(10))
        #expect(callback.reasonCode == "100")
        #expect(callback.message == "Request was processed successfully.")
        #expect(callback.maskedCard == "xxxxxxxxxxxx1111")
        #expect(callback.signedDateTime == F.signedAt)
        // The record holds exactly the signed fields: not utf8 or payer_authentication_reason_code, not the signature.
        #expect(Set(callback.fields.keys) == Set(F.signedNames))
        #expect(callback.fields["decision"] == "ACCEPT")
    }

    @Test func formBodyAsPostedVerifies() throws {
        let body = FormEncoding.encode(F.accept)
        #expect(try verifier.verify(formBody: body, now: F.now).get().decision == .accept)
    }

    @Test(arguments: CyberSourceFixture.signedNames)
    func everyTamperedSignedFieldIsABadSignature(name: String) {
        // Another configured profile's id keeps the lookup succeeding so the signature itself is what fails.
        let value = name == "req_profile_id" ? "0000002" : (F.accept.first { $0.0 == name }!.1 + "0")
        #expect(verify(F.replacing(name, with: value, in: F.accept)).rejection == .badSignature)
    }

    @Test(arguments: CyberSourceFixture.signedNames.filter { $0 != "req_profile_id" && $0 != "signed_field_names" })
    func droppingASignedFieldIsABadSignature(name: String) {
        #expect(verify(F.removing(name, from: F.accept)).rejection == .badSignature)
    }

    @Test func tamperedSignatureIsABadSignature() {
        let signature = F.accept.first { $0.0 == "signature" }!.1
        var flipped = Array(signature)
        flipped[5] = flipped[5] == "A" ? "B" : "A"
        for bad in [String(flipped), String(signature.dropLast(4)), signature + "AAAA", "", "%%%",
                    F.hmac("something else", key: F.secret)] {
            let result = verify(F.replacing("signature", with: bad, in: F.accept))
            // An empty signature is malformed rather than wrong; either way it is refused before anything else.
            #expect(result.rejection == (bad.isEmpty ? .malformed("there is no signature field") : .badSignature))
        }
        #expect(verify(F.sign(F.acceptValues, names: F.signedNames, key: "wrong-key")).rejection == .badSignature)
    }

    @Test(arguments: CallbackDecision.allCases)
    func signatureIsCheckedFirstForEveryDecision(decision: CallbackDecision) {
        let forged = F.sign(F.replacing("decision", with: decision.rawValue, in: F.acceptValues),
                            names: F.signedNames, key: "attacker-key")
        #expect(verify(forged).rejection == .badSignature)
        // A bare, forged CANCEL/DECLINE lacking every other field still fails on its signature, not on a field.
        let bare = F.sign([("decision", decision.rawValue), ("req_profile_id", "0000001")],
                          names: ["decision", "signed_field_names"], key: "attacker-key")
        #expect(verify(bare).rejection == .badSignature)
    }

    /// Written out rather than taken from the verifier, so that dropping a name there fails here.
    static let requiredFields = ["decision", "req_reference_number", "req_amount", "req_currency", "transaction_id",
                                 "req_profile_id", "signed_date_time", "signed_field_names"]

    @Test(arguments: requiredFields + ["auth_amount"])
    func resignedSubsetLeavingOutARequiredFieldNamesIt(name: String) {
        // Correctly signed by the profile's key, but the field the order logic acts on is outside the signature.
        let subset = F.resigned([:], names: F.signedNames.filter { $0 != name })
        #expect(verify(subset).rejection == .unsignedField(name))
    }

    @Test(arguments: requiredFields.filter { $0 != "req_profile_id" && $0 != "signed_field_names" } + ["auth_amount"])
    func requiredFieldMissingEntirelyNamesIt(name: String) {
        let withoutField = F.resigned([name: nil], names: F.signedNames.filter { $0 != name })
        #expect(verify(withoutField).rejection == .unsignedField(name))
        // Listed yet absent: the signature covers it as empty, but there is nothing to act on.
        let listedButAbsent = F.resigned([name: nil])
        #expect(verify(listedButAbsent).rejection == .unsignedField(name))
    }

    @Test func unsignedDecisionCannotTurnADeclineIntoAnAccept() {
        let declined = F.resigned(["decision": "DECLINE", "auth_amount": ""],
                                  names: F.signedNames.filter { $0 != "decision" })
        let lying = F.replacing("decision", with: "ACCEPT", in: declined)
        #expect(verify(lying).rejection == .unsignedField("decision"))
    }

    @Test(arguments: [CallbackDecision.decline, .cancel, .error, .review])
    func authAmountIsOptionalUnlessAccepted(decision: CallbackDecision) throws {
        let unsigned = F.resigned(["decision": decision.rawValue, "auth_amount": nil],
                                  names: F.signedNames.filter { $0 != "auth_amount" })
        let callback = try verify(unsigned).get()
        #expect(callback.decision == decision)
        #expect(callback.authAmount == nil)
        let empty = F.resigned(["decision": decision.rawValue, "auth_amount": ""])
        #expect(try verify(empty).get().authAmount == nil)
        let partial = F.resigned(["decision": decision.rawValue, "auth_amount": "3.50"])
        #expect(try verify(partial).get().authAmount == Decimal(350) / 100)
    }

    @Test func unsignedOptionalFieldsAreNotTrusted() throws {
        let names = F.signedNames.filter { !["reason_code", "message", "req_card_number"].contains($0) }
        let callback = try verify(F.resigned([:], names: names)).get()
        #expect(callback.reasonCode == nil)
        #expect(callback.message == nil)
        #expect(callback.maskedCard == nil)
        #expect(callback.fields["reason_code"] == nil)
    }

    @Test func signedDateTimeOutsideTheWindowIsStale() {
        let window: TimeInterval = 900
        for offset: TimeInterval in [-window - 1, window + 1, -86_400 * 365, 86_400] {
            let result = verify(F.accept, now: F.signedAt.addingTimeInterval(-offset))
            guard case .stale(let detail) = result.rejection else {
                Issue.record("offset \(offset): expected stale, got \(result)")
                continue
            }
            #expect(detail.contains("\(Int(abs(offset))) seconds"))
            #expect(detail.contains(offset > 0 ? "ahead" : "before"))
            #expect(result.rejection?.httpStatus == 400)
        }
    }

    @Test func signedDateTimeInsideTheWindowIsFresh() {
        for offset: TimeInterval in [-900, -899, 0, 899, 900] {
            #expect(verify(F.accept, now: F.signedAt.addingTimeInterval(offset)).verified != nil, "offset \(offset)")
        }
    }

    @Test(arguments: ["2014-08-18 14:07:10", "2014-08-18T14:07:10", "2014-08-18T14:07:10+00:00",
                      "2014-08-18T14:07:10.000Z", "2014-02-30T14:07:10Z", "2014-08-18T24:07:10Z", "", "yesterday",
                      "1408370830"])
    func unparseableSignedDateTimeIsRejected(text: String) {
        guard case .invalidValue(let detail) = verify(F.resigned(["signed_date_time": text])).rejection else {
            Issue.record("\(text) was not rejected as an invalid value")
            return
        }
        #expect(detail.contains("signed_date_time"))
    }

    @Test func unknownProfileIsRefusedWithoutAKey() {
        let unknown = F.resigned(["req_profile_id": "9999999"])
        #expect(verify(unknown).rejection == .unknownProfile("9999999"))
        #expect(verify(unknown).rejection?.httpStatus == 401)
        guard case .malformed = verify(F.resigned(["req_profile_id": nil],
                                                  names: F.signedNames.filter { $0 != "req_profile_id" })).rejection
        else {
            Issue.record("a callback without req_profile_id was not malformed")
            return
        }
    }

    @Test func profileKeyIsTheOneThatSigned() throws {
        // The same callback under the second profile verifies only with that profile's key.
        let other = F.sign(F.replacing("req_profile_id", with: "0000002", in: F.acceptValues),
                           names: F.signedNames, key: "another-profile-key")
        #expect(try verify(other).get().profileID == "0000002")
        let crossed = F.sign(F.replacing("req_profile_id", with: "0000002", in: F.acceptValues),
                             names: F.signedNames, key: F.secret)
        #expect(verify(crossed).rejection == .badSignature)
    }

    @Test func malformedBodiesAreRefused() {
        for body in ["decision=%ZZ", "signature=%E2%28%A1", "decision=ACCEPT&signature=x%"] {
            guard case .malformed = verifier.verify(formBody: body, now: F.now).rejection else {
                Issue.record("\(body) was not malformed")
                continue
            }
        }
        for missing in ["signature", "signed_field_names"] {
            guard case .malformed(let detail) = verify(F.removing(missing, from: F.accept)).rejection else {
                Issue.record("without \(missing) the callback was not malformed")
                continue
            }
            #expect(detail.contains(missing))
        }
        guard case .malformed = verifier.verify(formBody: "", now: F.now).rejection else {
            Issue.record("an empty body was not malformed")
            return
        }
    }

    @Test func duplicateFieldWithAnotherValueIsMalformed() {
        // The signed copy comes first; a second copy must not be the one that gets acted on.
        for (name, second) in [("decision", "DECLINE"), ("auth_amount", "1.00"), ("req_reference_number", "2"),
                               ("signature", "AAAA"), ("utf8", "x")] {
            guard case .malformed(let detail) = verify(F.accept + [(name, second)]).rejection else {
                Issue.record("a second \(name) with another value was not malformed")
                continue
            }
            #expect(detail.contains(name))
            // Whichever order the copies arrive in.
            guard case .malformed = verify([(name, second)] + F.accept).rejection else {
                Issue.record("a leading second \(name) was not malformed")
                continue
            }
        }
        #expect(verify(F.accept + [("decision", "ACCEPT"), ("utf8", "✓")]).verified?.decision == .accept)
    }

    @Test func duplicateOrEmptySignedNamesAreMalformed() {
        for names in [F.signedNames + ["decision"], F.signedNames + [""]] {
            guard case .malformed = verify(F.resigned([:], names: names)).rejection else {
                Issue.record("signed_field_names \(names.suffix(2)) was not malformed")
                continue
            }
        }
    }

    @Test(arguments: [("decision", "MAYBE"), ("decision", "accept"), ("req_amount", "10,00"), ("req_amount", "1e1"),
                      ("req_amount", "-10.00"), ("req_amount", ""), ("auth_amount", "ten"), ("auth_amount", ""),
                      ("req_currency", "US"), ("req_currency", "U$D"), ("req_reference_number", ""),
                      ("transaction_id", "")])
    func invalidSignedValuesAreRejected(name: String, value: String) {
        guard case .invalidValue(let detail) = verify(F.resigned([name: value])).rejection else {
            Issue.record("\(name)=\(value) was not an invalid value")
            return
        }
        #expect(detail.contains(name))
    }

    @Test func fullCardNumberIsNeverKept() throws {
        let pan = "4111111111111111"
        let callback = try verify(F.resigned(["req_card_number": pan])).get()
        #expect(callback.maskedCard == "xxxxxxxxxxxx1111")
        #expect(callback.fields["req_card_number"] == "xxxxxxxxxxxx1111")
        #expect(!callback.fields.values.contains { $0.contains(pan) })
        let spaced = try verify(F.resigned(["req_card_number": "4111 1111 1111 1111"])).get()
        #expect(spaced.maskedCard == "xxxxxxxxxxxx1111")
    }

    @Test func rejectionMessagesNeverCarryACardNumber() {
        let pan = "4111111111111111"
        let rejections = [
            verify(F.resigned(["decision": pan])).rejection,
            verify(F.resigned(["req_amount": pan + "x"])).rejection,
            verify(F.resigned(["req_profile_id": pan])).rejection,
            verify(F.resigned(["signed_date_time": pan])).rejection,
        ]
        for rejection in rejections {
            guard let rejection else {
                Issue.record("expected a rejection")
                continue
            }
            #expect(!rejection.message.contains(pan), "\(rejection.message)")
            #expect(!"\(rejection)".contains(pan), "\(rejection)")
            #expect(rejection.message.contains("1111"))
        }
    }

    @Test func rejectionsMapToTheDocumentedStatuses() {
        let cases: [(CallbackRejection, Int, String)] = [
            (.malformed("x"), 400, "malformed"), (.unknownProfile("x"), 401, "unknown_profile"),
            (.badSignature, 401, "bad_signature"), (.unsignedField("decision"), 400, "unsigned_field"),
            (.stale("x"), 400, "stale"), (.invalidValue("x"), 400, "invalid_value"),
        ]
        for (rejection, status, code) in cases {
            #expect(rejection.httpStatus == status)
            #expect(rejection.code == code)
            #expect(rejection.message.hasSuffix("."))
        }
        #expect(CallbackRejection.unsignedField("decision").message.contains("decision"))
    }

    @Test func verifierTakesItsSettingsFromConfig() throws {
        var config = CyberSourceConfig()
        config.profiles = ["0000001": F.profile]
        config.replayWindowSeconds = 30
        let fromConfig = CallbackVerifier(config: config)
        #expect(fromConfig.verify(F.accept, now: F.signedAt.addingTimeInterval(30)).verified != nil)
        guard case .stale = fromConfig.verify(F.accept, now: F.signedAt.addingTimeInterval(31)).rejection else {
            Issue.record("the configured window was not applied")
            return
        }
    }
}
