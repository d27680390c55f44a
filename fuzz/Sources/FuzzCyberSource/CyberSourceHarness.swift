import Foundation
import RegistrarCore

// libFuzzer harness for CyberSource callbacks. The first byte of an input picks the mode, the rest is a
// form body:
//   even: the body as posted, without the key. It may verify only if it carries exactly the signed values of one
//         of the seed callbacks (then to the same callback); every refusal is a 4xx.
//   odd:  the body's fields signed again with the profile's key, as a careless signer would: past the signature
//         every refusal is a 400, and what verifies holds only sane, signed values.
// Seeds are written by the harness itself (FUZZ_WRITE_SEEDS=<dir>; see make-corpus.sh), so they always carry
// signatures this harness accepts.

private let secret = Secret("callback-secret-key")
private let verifier = CallbackVerifier(profiles: [
    "0000001": CyberSourceProfile(profileID: "0000001", accessKey: "abcd12345", secretKey: secret),
    "0000002": CyberSourceProfile(profileID: "0000002", accessKey: "efgh67890", secretKey: Secret("another-profile-key")),
], replayWindow: .seconds(900))
/// The seeds' signed_date_time plus a minute.
private let now = Date(timeIntervalSince1970: 1_408_370_890)

private let names = """
    transaction_id,decision,req_access_key,req_profile_id,req_transaction_uuid,req_transaction_type,\
    req_reference_number,req_amount,req_currency,req_locale,req_payment_method,req_bill_to_email,req_card_number,\
    req_card_type,message,reason_code,auth_response,auth_amount,auth_code,auth_time,signed_field_names,signed_date_time
    """

private func seed(_ changes: [String: String]) -> [(String, String)] {
    var pairs: [(String, String)] = [
        ("utf8", "✓"), ("decision", "ACCEPT"), ("req_reference_number", "1"), ("req_amount", "10.00"),
        ("auth_amount", "10.00"), ("req_card_number", "xxxxxxxxxxxx1111"), ("req_card_type", "001"),
        ("req_transaction_uuid", "ddd9935b82dd403f9aa4ba6ecf021b1f"), ("req_bill_to_email", "john@example.com"),
        ("req_payment_method", "card"), ("req_locale", "en"), ("req_transaction_type", "sale"), ("auth_code", "888888"),
        ("req_currency", "usd"), ("transaction_id", "4083708299660176195663"), ("signed_date_time", "2014-08-18T14:07:10Z"),
        ("req_profile_id", "0000001"), ("auth_time", "2014-08-18T140710Z"), ("auth_response", "100"),
        ("message", "Request was processed successfully."), ("reason_code", "100"), ("req_access_key", "abcd12345"),
        ("signed_field_names", names),
    ]
    pairs = pairs.map { ($0.0, changes[$0.0] ?? $0.1) }
    let form = Dictionary(pairs, uniquingKeysWith: { $1 })
    let signature = SecureAcceptanceSignature.sign(fields: form, signedFieldNames: SecureAcceptanceSignature.signedFieldNames(names),
                                                   secret: secret)
    return pairs + [("signature", signature)]
}

private let seeds: [(body: String, callback: VerifiedCallback)] = [
    seed([:]),
    seed(["decision": "DECLINE", "auth_amount": "", "reason_code": "481", "req_reference_number": "77"]),
    seed(["req_currency": "EUR", "req_amount": "0.07", "auth_amount": "0.07"]),
].map { pairs in
    let body = FormEncoding.encode(pairs)
    guard case .success(let callback) = verifier.verify(formBody: body, now: now) else {
        fatalError("a seed callback does not verify: \(body)")
    }
    return (body, callback)
}

/// FUZZ_WRITE_SEEDS=<dir>: writes each seed callback in both modes, for make-corpus.sh.
func writeSeedsIfAsked() {
    guard let directory = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEEDS"] else { return }
    for (index, seed) in seeds.enumerated() {
        for mode: UInt8 in [0, 1] {
            let url = URL(fileURLWithPath: directory).appendingPathComponent("seed-\(index)-\(mode == 0 ? "raw" : "resigned")")
            try! Data([mode] + Array(seed.body.utf8)).write(to: url)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let mode = bytes.first else { return 0 }
    // As the server reads a body: invalid UTF-8 becomes U+FFFD rather than a refusal.
    let body = String(decoding: bytes.dropFirst(), as: UTF8.self)
    if mode % 2 == 0 { withoutKey(body) } else { withKey(body) }
    return 0
}

private func withoutKey(_ body: String) {
    let result = verifier.verify(formBody: body, now: now)
    switch result {
    case .failure(let rejection):
        require((400..<500).contains(rejection.httpStatus), "status \(rejection.httpStatus)")
    case .success(let callback):
        require(seeds.contains { same($0.callback, callback) }, "a body verified to a callback no seed signed: \(callback)")
    }
}

/// Equal but for signed fields that are empty in one and absent from the other: both sign as "name=".
private func same(_ a: VerifiedCallback, _ b: VerifiedCallback) -> Bool {
    var a = a, b = b
    a.fields = a.fields.filter { !$0.value.isEmpty }
    b.fields = b.fields.filter { !$0.value.isEmpty }
    return a == b
}

private func withKey(_ body: String) {
    guard var pairs = FormEncoding.decode(body) else { return }
    pairs.removeAll { $0.0 == "signature" }
    var form: [String: String] = [:]
    var conflict = false
    for (name, value) in pairs {
        if let earlier = form[name], earlier != value { conflict = true }
        form[name] = value
    }
    let list = form["signed_field_names"] ?? ""
    let signed = SecureAcceptanceSignature.signedFieldNames(list)
    pairs.append(("signature", SecureAcceptanceSignature.sign(fields: form, signedFieldNames: signed, secret: secret)))
    let result = verifier.verify(pairs, now: now)
    let profile = form["req_profile_id"] ?? ""
    switch result {
    case .failure(let rejection):
        if conflict || list.isEmpty || profile.isEmpty {
            require(rejection.code == "malformed", "expected malformed, got \(rejection)")
        } else if profile != "0000001" || signed.contains("signature") {
            // A list naming "signature" signs the signature field's own value, which the signer cannot know.
            require(rejection.httpStatus == 401, "profile \(profile.debugDescription) gave \(rejection)")
        } else {
            require(rejection.httpStatus == 400, "a validly signed callback refused with \(rejection.httpStatus): \(rejection)")
        }
    case .success(let callback):
        require(!conflict && profile == "0000001", "verified despite conflict or foreign profile")
        require(Set(signed).count == signed.count && !signed.contains(""), "verified with list \(list.debugDescription)")
        require(CallbackVerifier.requiredSignedFields.allSatisfy { signed.contains($0) && form[$0] != nil }, "a required field is unsigned")
        require(Set(callback.fields.keys).isSubset(of: Set(signed)), "the record holds unsigned fields")
        require(callback.requestAmount >= 0 && Money.parse(form["req_amount"] ?? "") == callback.requestAmount, "req_amount")
        require(callback.decision != .accept || callback.authAmount != nil, "an ACCEPT without auth_amount")
        require(callback.currency.utf8.count == 3 && callback.currency == form["req_currency"], "currency \(callback.currency)")
        require(abs(now.timeIntervalSince(callback.signedDateTime)) <= 900, "stale \(callback.signedDateTime)")
        require(SignedDateTime.format(callback.signedDateTime) == form["signed_date_time"], "signed_date_time")
        require(!callback.referenceNumber.isEmpty && !callback.transactionID.isEmpty, "empty reference or transaction")
        if let card = callback.fields["req_card_number"] {
            require(card.unicodeScalars.filter { $0.properties.numericType == .decimal }.count <= 4, "card number kept: \(card)")
        }
    }
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}
