import Foundation
import RegistrarCore
import Testing

/// What a CyberSource callback body may do, whatever its bytes: without the profile's key, nothing but a body
/// that carries exactly the signed values of a real callback verifies, and every refusal is a 4xx. With the key
/// (a sender that signs badly), every refusal is a 400 and nothing unsafe is accepted.
@Suite(.timeLimit(.minutes(1)))
struct FuzzCyberSourceTests {
    typealias F = CyberSourceFixture

    /// Validly signed callbacks and what they verify to.
    struct Original {
        var pairs: [(String, String)]
        var body: String
        var form: [String: String]
        var verified: VerifiedCallback
    }

    static let originals: [Original] = [
        F.accept,
        F.resigned(["decision": "DECLINE", "auth_amount": "", "reason_code": "481", "req_reference_number": "77"]),
        F.resigned(["req_currency": "EUR", "req_amount": "0.07", "auth_amount": "0.07", "req_card_number": nil]),
    ].map { pairs in
        let body = FormEncoding.encode(pairs)
        return Original(pairs: pairs, body: body, form: Dictionary(pairs, uniquingKeysWith: { $1 }),
                        verified: try! F.verifier.verify(formBody: body, now: F.now).get())
    }

    static let fieldNames = F.signedNames + ["signature", "utf8", "payer_authentication_reason_code", "Decision",
                                             "decision ", "req_profile_id\u{0}", "", "card_number", "x"]

    static let values = [
        "", "ACCEPT", "DECLINE", "REVIEW", "accept", "10.00", "10", "10.000", "10.001", "9.99", "-10.00", "1e1",
        "0000001", "0000002", "0000003", "2014-08-18T14:07:10Z", "2014-08-18T14:22:11Z", "2014-08-18T13:53:09Z",
        "2014-08-18T14:07:10+00:00", "usd", "USD", "US", "ÜSD", ",", "=", "&", "%", "+", " ", "✓", "a,b=c",
        "xxxxxxxxxxxx1111", "4111111111111111", "\u{0}", "\u{FEFF}ACCEPT",
    ]

    // MARK: Without the key

    @Test func mutatedBodiesVerifyOnlyWhenNothingSignedChanged() {
        let bodies = Self.originals.map { Array($0.body.utf8) }
        var verified = 0
        Fuzz.run("cybersource.body.mutated", count: 5000) { c in
            let bytes = FuzzMutator.mutate(c.rng.pick(bodies), &c.rng, others: bodies)
            c.input(bytes)
            // As the server reads it: invalid UTF-8 becomes U+FFFD rather than a refusal.
            if Self.checkAgainstOriginals(String(decoding: bytes, as: UTF8.self), &c) { verified += 1 }
        }
        // Mutants that touch only unsigned bytes must verify, or the oracle's "success" side was never tried.
        if Fuzz.only == nil {
            #expect(verified > 0 && verified < 5000 * Fuzz.scale / 2, "\(verified) verified")
        }
    }

    @Test func fieldLevelMutationsVerifyOnlyWhenNothingSignedChanged() {
        Fuzz.run("cybersource.fields.mutated", count: 3000) { c in
            var pairs = c.rng.pick(Self.originals).pairs
            for _ in 0...c.rng.below(3) { Self.mutate(&pairs, &c.rng) }
            let body = Self.encodeAnyhow(pairs, &c.rng)
            c.input(body)
            Self.checkAgainstOriginals(body, &c)
        }
    }

    @Test func randomBodiesNeverVerify() {
        Fuzz.run("cybersource.body.random", count: 8000) { c in
            let body: String
            if c.rng.chance(1, in: 2) {
                body = String(decoding: FuzzMutator.randomBytes(&c.rng, max: 1024, alphabet: FuzzMutator.formAlphabet),
                              as: UTF8.self)
            } else {
                // Real field names with junk values, so the checks past decoding and lookup run too.
                let pairs = (0..<c.rng.length(max: 40)).map { _ in (c.rng.pick(Self.fieldNames), c.rng.pick(Self.values)) }
                body = FormEncoding.encode(pairs)
            }
            c.input(body)
            switch F.verifier.verify(formBody: body, now: F.now) {
            case .success(let callback):
                c.expect(false, "a random body verified: \(callback)")
            case .failure(let rejection):
                c.expect((400..<500).contains(rejection.httpStatus), "status \(rejection.httpStatus)")
            }
        }
    }

    /// The oracle: decode as the verifier does, then a body verifies exactly when it is one of the originals in
    /// everything the signature covers (its signed values, the list, the signature itself); extra or reordered
    /// unsigned fields and other spellings of the same text change nothing. Returns whether the body verified.
    @discardableResult
    static func checkAgainstOriginals(_ body: String, _ c: inout FuzzCase) -> Bool {
        let result = F.verifier.verify(formBody: body, now: F.now)
        let verified = result.verified != nil
        if case .failure(let rejection) = result {
            c.expect((400..<500).contains(rejection.httpStatus), "status \(rejection.httpStatus) for \(rejection)")
        }
        guard let pairs = FormEncoding.decode(body) else {
            c.expect(result.rejection?.code == "malformed", "an undecodable body gave \(result)")
            return verified
        }
        var form: [String: String] = [:]
        for (name, value) in pairs {
            if let earlier = form[name], earlier != value {
                c.expect(result.rejection?.code == "malformed", "\(name) twice with different values gave \(result)")
                return verified
            }
            form[name] = value
        }
        let match = originals.first { original in
            guard let list = form["signed_field_names"], list == original.form["signed_field_names"],
                  let signature = form["signature"], !signature.isEmpty,
                  let mac = Data(base64Encoded: signature), mac == Data(base64Encoded: original.form["signature"]!)
            else { return false }
            // A listed field that is absent is signed as empty (as CyberSource and the peers do).
            return SecureAcceptanceSignature.signedFieldNames(list).allSatisfy { (form[$0] ?? "") == (original.form[$0] ?? "") }
        }
        switch (match, result) {
        case (let original?, .success(let callback)):
            c.expect(same(callback, original.verified), "verified to \(callback), not to the original")
        case (let original?, .failure(let rejection)):
            c.expect(false, "the signed values of original \(original.verified.referenceNumber) were refused: \(rejection)")
        case (nil, .success(let callback)):
            c.expect(false, "a body with changed signed values verified: \(callback)")
        case (nil, .failure):
            break
        }
        return verified
    }

    /// Equal but for signed fields that are empty in one and absent from the other: both sign as "name=".
    static func same(_ a: VerifiedCallback, _ b: VerifiedCallback) -> Bool {
        var a = a, b = b
        a.fields = a.fields.filter { !$0.value.isEmpty }
        b.fields = b.fields.filter { !$0.value.isEmpty }
        return a == b
    }

    static func mutate(_ pairs: inout [(String, String)], _ rng: inout SplitMix64) {
        guard !pairs.isEmpty else {
            pairs.append((rng.pick(fieldNames), rng.pick(values)))
            return
        }
        let index = rng.below(pairs.count)
        switch rng.below(9) {
        case 0:
            pairs[index].1 = rng.pick(values)
        case 1:
            pairs[index].1 = String(decoding: FuzzMutator.mutate(Array(pairs[index].1.utf8), &rng), as: UTF8.self)
        case 2:
            pairs.remove(at: index)
        case 3:
            pairs.insert(pairs[index], at: rng.below(pairs.count + 1))
        case 4:
            pairs.insert((pairs[index].0, rng.pick(values)), at: rng.below(pairs.count + 1))
        case 5:
            pairs[index].0 = String(decoding: FuzzMutator.mutate(Array(pairs[index].0.utf8), &rng), as: UTF8.self)
        case 6:
            pairs.insert((rng.pick(fieldNames), rng.pick(values)), at: rng.below(pairs.count + 1))
        case 7:
            pairs.swapAt(index, rng.below(pairs.count))
        default:
            pairs[index].1 += rng.pick([",", ",decision=ACCEPT", "&decision=DECLINE", "=", "%", " "])
        }
    }

    /// Form encoding with every liberty the format allows: any byte may be percent-escaped, hex in either case,
    /// a space as "+" or "%20", empty segments between pairs. The decoded text, and so the verdict, is the same.
    static func encodeAnyhow(_ pairs: [(String, String)], _ rng: inout SplitMix64) -> String {
        func escape(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                let literal = byte.isASCIIAlphanumeric || [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                                                           UInt8(ascii: "~")].contains(byte)
                if byte == UInt8(ascii: " "), rng.chance(1, in: 2) {
                    out += "+"
                } else if literal && !rng.chance(1, in: 20) {
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    let hex = String(byte, radix: 16, uppercase: rng.chance(1, in: 2))
                    out += "%" + (hex.count == 1 ? "0" : "") + hex
                }
            }
            return out
        }
        return pairs.map { name, value in
            let separator = rng.chance(1, in: 30) ? "&" : ""
            return separator + escape(name) + (value.isEmpty && rng.chance(1, in: 2) ? "" : "=" + escape(value))
        }.joined(separator: "&")
    }

    // MARK: Re-ordering and duplication

    @Test func reorderingTheSignedFieldNamesIsABadSignature() {
        let original = Self.originals[0]
        let names = F.signedNames
        Fuzz.run("cybersource.attack.reorder-names", count: 2000) { c in
            var shuffled = names
            for index in shuffled.indices.reversed() { shuffled.swapAt(index, c.rng.below(index + 1)) }
            if shuffled == names { shuffled.swapAt(0, 1) }
            let pairs = F.replacing("signed_field_names", with: shuffled.joined(separator: ","), in: original.pairs)
            c.input(FormEncoding.encode(pairs))
            let result = F.verifier.verify(pairs, now: F.now)
            c.expect(result.rejection == .badSignature, "a re-ordered signed_field_names gave \(result)")
        }
    }

    @Test func aSecondCopyOfAFieldWithAnotherValueIsRefused() {
        Fuzz.run("cybersource.attack.duplicate-field", count: 1500) { c in
            let original = c.rng.pick(Self.originals)
            var pairs = original.pairs
            let (name, value) = c.rng.pick(pairs)
            var other = c.rng.pick(Self.values)
            if other == value { other += "0" }
            // Before or after the real one: neither "first wins" nor "last wins" may decide what is checked.
            pairs.insert((name, other), at: c.rng.below(pairs.count + 1))
            let body = Self.encodeAnyhow(pairs, &c.rng)
            c.input(body)
            let result = F.verifier.verify(formBody: body, now: F.now)
            c.expect(result.rejection?.code == "malformed" && result.rejection?.httpStatus == 400,
                     "\(name) sent twice (\(value.debugDescription), \(other.debugDescription)) gave \(result)")
        }
    }

    @Test func aNameSignedTwiceIsRefusedEvenUnderAValidSignature() {
        Fuzz.run("cybersource.attack.duplicate-name", count: 2000) { c in
            var names = F.signedNames
            names.insert(c.rng.pick(F.signedNames), at: c.rng.below(names.count + 1))
            let pairs = F.sign(F.acceptValues, names: names)
            c.input(FormEncoding.encode(pairs))
            let result = F.verifier.verify(pairs, now: F.now)
            c.expect(result.rejection == .malformed("signed_field_names lists a name twice"), "\(names) gave \(result)")
        }
    }

    /// The data string is "name=value" pairs joined by ","; values may hold "," and "=". Cutting the same data
    /// string into other fields (moving a value's tail into a new field, or merging fields into one value) keeps
    /// the signature's message, so only signing signed_field_names itself stops it.
    @Test func regroupingTheSignedDataStringIsRefused() {
        let original = Self.originals[0]
        let data = F.signedNames.map { "\($0)=\(original.form[$0] ?? "")" }.joined(separator: ",")
        let segments = data.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let signature = original.form["signature"]!
        Fuzz.run("cybersource.attack.regroup", count: 1500) { c in
            var groups: [String] = []
            for segment in segments {
                if groups.isEmpty || (segment.contains("=") && c.rng.chance(3, in: 4)) {
                    groups.append(segment)
                } else {
                    groups[groups.count - 1] += "," + segment
                }
            }
            var pairs = groups.map { group in
                let parts = group.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
            if c.rng.chance(1, in: 2) {
                // The attacker's own list for the new grouping: a different list is a different message.
                pairs = pairs.filter { $0.0 != "signed_field_names" }
                    + [("signed_field_names", pairs.map(\.0).joined(separator: ","))]
            }
            pairs.append(("signature", signature))
            let body = FormEncoding.encode(pairs)
            c.input(body)
            let result = F.verifier.verify(formBody: body, now: F.now)
            switch result {
            case .success(let callback):
                c.expect(Self.same(callback, original.verified), "a regrouped data string verified as \(callback)")
            case .failure(let rejection):
                c.expect((400..<500).contains(rejection.httpStatus), "status \(rejection.httpStatus)")
            }
        }
    }

    @Test func reorderingPairsOrRepeatingThemVerbatimChangesNothing() {
        Fuzz.run("cybersource.benign.reorder", count: 1000) { c in
            let original = c.rng.pick(Self.originals)
            var pairs = original.pairs
            for index in pairs.indices.reversed() { pairs.swapAt(index, c.rng.below(index + 1)) }
            for _ in 0..<c.rng.below(4) { pairs.insert(c.rng.pick(pairs), at: c.rng.below(pairs.count + 1)) }
            let body = Self.encodeAnyhow(pairs, &c.rng)
            c.input(body)
            let result = F.verifier.verify(formBody: body, now: F.now)
            c.expect(result.verified.map { Self.same($0, original.verified) } == true, "the same fields in another order gave \(result)")
        }
    }

    /// `signedFieldNames` promises Python's `split(",")`, but `String.split` cuts grapheme clusters, and a ","
    /// followed by a combining mark is one cluster: the list is not split there, so the data string differs from
    /// the one the sender signed. Fix: split `list.unicodeScalars` (as Python splits code points).
    @Test func signedFieldNamesSplitAtEveryComma() {
        #expect(SecureAcceptanceSignature.signedFieldNames("a,\u{301}b,,c") == ["a", "\u{301}b", "", "c"])
    }

    // MARK: With the key

    /// Values a careless or compromised signer might sign. Past the signature every refusal is a 400, and a
    /// callback verifies exactly when an independent reading of the rules accepts it.
    @Test func validlySignedJunkIsRefusedWith400OrVerifiesSafely() {
        let requiredNames = CallbackVerifier.requiredSignedFields
        var verified = 0
        Fuzz.run("cybersource.resigned", count: 3000) { c in
            var values = F.acceptValues
            for _ in 0...c.rng.below(3) {
                let index = c.rng.below(values.count)
                switch c.rng.below(4) {
                case 0: values[index].1 = c.rng.pick(Self.values)
                case 1: values[index].1 = String(decoding: FuzzMutator.mutate(Array(values[index].1.utf8), &c.rng), as: UTF8.self)
                case 2: values.remove(at: index)
                default: values.insert((values[index].0, c.rng.pick(Self.values)), at: c.rng.below(values.count + 1))
                }
            }
            var names = F.signedNames
            switch c.rng.below(6) {
            case 0: names.remove(at: c.rng.below(names.count))
            case 1: names.insert(c.rng.pick(Self.fieldNames.filter { $0 != "signature" }), at: c.rng.below(names.count + 1))
            case 2: names.append("")
            default: break
            }
            let pairs = F.sign(values, names: names)
            let body = FormEncoding.encode(pairs)
            c.input(body)
            let result = F.verifier.verify(formBody: body, now: F.now)

            var form: [String: String] = [:]
            var conflict = false
            for (name, value) in pairs {
                if let earlier = form[name], earlier != value { conflict = true }
                form[name] = value
            }
            let profile = form["req_profile_id"] ?? ""
            guard !conflict, !profile.isEmpty else {
                c.expect(result.rejection?.code == "malformed", "expected malformed, got \(result)")
                return
            }
            guard profile == F.profile.profileID else {
                c.expect(result.rejection?.httpStatus == 401, "profile \(profile.debugDescription) gave \(result)")
                return
            }
            // Independent reading of the rules, field by field.
            let signed = Dictionary(names.compactMap { name in form[name].map { (name, $0) } }, uniquingKeysWith: { $1 })
            let decision = signed["decision"].flatMap(CallbackDecision.init(rawValue:))
            let age = signed["signed_date_time"].flatMap(SignedDateTime.parse).map { F.now.timeIntervalSince($0) }
            func amount(_ text: String?) -> Decimal? { text.flatMap(Money.parse).flatMap { $0 >= 0 ? $0 : nil } }
            let auth = signed["auth_amount"]
            let currency = signed["req_currency"] ?? ""
            let acceptable = !names.contains("") && Set(names).count == names.count
                && requiredNames.allSatisfy { signed[$0] != nil }
                && decision != nil
                && (decision != .accept || auth != nil)
                && age.map { abs($0) <= 900 } == true
                && amount(signed["req_amount"]) != nil
                && (auth == nil || (decision != .accept && auth == "") || amount(auth) != nil)
                && currency.utf8.count == 3 && currency.unicodeScalars.allSatisfy { $0.isASCII && $0.properties.isAlphabetic }
                && signed["req_reference_number"]?.isEmpty == false && signed["transaction_id"]?.isEmpty == false
            switch result {
            case .success(let callback):
                verified += 1
                c.expect(acceptable, "verified although the rules refuse it: \(callback)")
                c.expect(callback.decision == decision && callback.requestAmount == amount(signed["req_amount"])
                         && callback.currency == currency && callback.referenceNumber == signed["req_reference_number"]
                         && callback.transactionID == signed["transaction_id"] && callback.profileID == profile,
                         "verified values differ from the signed ones: \(callback)")
                c.expect(Set(callback.fields.keys) == Set(signed.keys), "the record holds unsigned fields")
                if let card = callback.fields["req_card_number"] {
                    c.expect(card.unicodeScalars.filter { $0.properties.numericType == .decimal }.count <= 4,
                             "a card number kept more than four digits: \(card)")
                }
            case .failure(let rejection):
                c.expect(rejection.httpStatus == 400, "a validly signed callback was refused with \(rejection.httpStatus)")
                c.expect(!acceptable, "refused although the rules accept it: \(rejection)")
            }
        }
        // Both sides of the oracle must have been exercised.
        if Fuzz.only == nil {
            #expect(verified > 3000 * Fuzz.scale / 20 && verified < 3000 * Fuzz.scale * 19 / 20, "\(verified) verified")
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
