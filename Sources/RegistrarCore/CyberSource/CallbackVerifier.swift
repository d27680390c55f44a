import Foundation

/// A callback (form-encoded POST from CyberSource) checked in the order the issue demands: authenticate
/// first, then insist that every field acted on is covered by the signature, then judge freshness and values.
/// edx-platform and ecommerce get each of these wrong; see ../shared/reference/cybersource.md.
public struct CallbackVerifier: Sendable {
    /// Fields Registrar acts on for every decision. signed_field_names must sign itself too: otherwise a
    /// value containing "," could regroup the data string into a different list of fields under the same
    /// signature.
    public static let requiredSignedFields = [
        "decision", "req_reference_number", "req_amount", "req_currency", "transaction_id", "req_profile_id",
        "signed_date_time", "signed_field_names",
    ]

    public let profiles: [String: CyberSourceProfile]
    public let replayWindow: Duration

    public init(profiles: [String: CyberSourceProfile], replayWindow: Duration) {
        self.profiles = profiles
        self.replayWindow = replayWindow
    }

    public init(config: CyberSourceConfig) {
        self.init(profiles: config.profiles, replayWindow: .seconds(config.replayWindowSeconds))
    }

    /// The raw request body, as the server receives it.
    public func verify(formBody: String, now: Date) -> Result<VerifiedCallback, CallbackRejection> {
        guard let fields = FormEncoding.decode(formBody) else {
            return .failure(.malformed("the body is not valid application/x-www-form-urlencoded text"))
        }
        return verify(fields, now: now)
    }

    public func verify(_ fields: [(String, String)], now: Date) -> Result<VerifiedCallback, CallbackRejection> {
        Result { () throws(CallbackRejection) in try check(fields, now: now) }
    }

    private func check(_ pairs: [(String, String)], now: Date) throws(CallbackRejection) -> VerifiedCallback {
        let form = try Self.singleValued(pairs)
        guard let signature = form["signature"], !signature.isEmpty else {
            throw .malformed("there is no signature field")
        }
        guard let list = form["signed_field_names"], !list.isEmpty else {
            throw .malformed("there is no signed_field_names field")
        }
        // The profile id is read unauthenticated only to choose the key; it must be signed like the rest.
        guard let profileID = form["req_profile_id"], !profileID.isEmpty else {
            throw .malformed("there is no req_profile_id, so no key to check the signature with")
        }
        guard let profile = profiles[profileID] else {
            throw .unknownProfile(CardNumberRedaction.quoted(profileID))
        }
        guard SecureAcceptanceSignature.isValid(fields: form, secret: profile.secretKey) else {
            throw .badSignature
        }

        // Authenticated from here on; only signed values are read.
        let names = SecureAcceptanceSignature.signedFieldNames(list)
        guard !names.contains("") else { throw .malformed("signed_field_names contains an empty name") }
        guard Set(names).count == names.count else { throw .malformed("signed_field_names lists a name twice") }
        var signed: [String: String] = [:]
        for name in names { signed[name] = form[name] }
        func required(_ name: String) throws(CallbackRejection) -> String {
            guard let value = signed[name] else { throw .unsignedField(name) }
            return value
        }
        for name in Self.requiredSignedFields { _ = try required(name) }

        let decisionText = try required("decision")
        guard let decision = CallbackDecision(rawValue: decisionText) else {
            throw .invalidValue("decision \"\(CardNumberRedaction.quoted(decisionText))\" is not one of "
                + CallbackDecision.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let authText = decision == .accept ? try required("auth_amount") : signed["auth_amount"]

        let signedAt = try fresh(required("signed_date_time"), now: now)

        let requestAmount = try Self.amount("req_amount", required("req_amount"))
        // A DECLINE or CANCEL may sign an empty auth_amount: nothing was authorised. An ACCEPT may not.
        var authAmount: Decimal?
        if let authText, decision == .accept || !authText.isEmpty {
            authAmount = try Self.amount("auth_amount", authText)
        }
        let currency = try required("req_currency")
        guard currency.utf8.count == 3, currency.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic })
        else {
            throw .invalidValue("req_currency \"\(CardNumberRedaction.quoted(currency))\" is not a three-letter code")
        }
        let reference = try required("req_reference_number")
        guard !reference.isEmpty else { throw .invalidValue("req_reference_number is empty") }
        let transactionID = try required("transaction_id")
        guard !transactionID.isEmpty else { throw .invalidValue("transaction_id is empty") }

        var record = signed
        for name in record.keys where CardNumberRedaction.isCardNumberField(name) {
            record[name] = record[name].map(CardNumberRedaction.masked)
        }
        return VerifiedCallback(
            profileID: profileID, referenceNumber: reference, transactionID: transactionID, currency: currency,
            decision: decision, requestAmount: requestAmount, authAmount: authAmount,
            reasonCode: signed["reason_code"].flatMap { $0.isEmpty ? nil : $0 },
            message: signed["message"].flatMap { $0.isEmpty ? nil : $0 },
            maskedCard: record["req_card_number"].flatMap { $0.isEmpty ? nil : $0 },
            signedDateTime: signedAt, fields: record)
    }

    /// A field sent twice with different values is refused outright: whichever copy the signature check
    /// and the order logic each picked, an attacker could get one value verified and another acted on.
    static func singleValued(_ pairs: [(String, String)]) throws(CallbackRejection) -> [String: String] {
        var form: [String: String] = [:]
        for (name, value) in pairs {
            if let earlier = form[name], earlier != value {
                throw .malformed("the field \(CardNumberRedaction.quoted(name)) appears twice with different values")
            }
            form[name] = value
        }
        return form
    }

    /// Replays are refused in both directions: an old callback resent, or one dated ahead to outlive the window.
    private func fresh(_ text: String, now: Date) throws(CallbackRejection) -> Date {
        guard let signedAt = SignedDateTime.parse(text) else {
            throw .invalidValue("signed_date_time \"\(CardNumberRedaction.quoted(text))\" is not of the form "
                + "YYYY-MM-DDTHH:MM:SSZ")
        }
        let window = replayWindow.components
        let windowSeconds = Double(window.seconds) + Double(window.attoseconds) / 1e18
        let age = now.timeIntervalSince(signedAt)
        if age > windowSeconds {
            throw .stale("\(text) is \(Self.seconds(age)) before now, beyond the \(Self.seconds(windowSeconds)) window")
        }
        if -age > windowSeconds {
            throw .stale("\(text) is \(Self.seconds(-age)) ahead of now, beyond the \(Self.seconds(windowSeconds)) window")
        }
        return signedAt
    }

    private static func amount(_ name: String, _ text: String) throws(CallbackRejection) -> Decimal {
        guard let amount = Money.parse(text), amount >= 0 else {
            throw .invalidValue("\(name) \"\(CardNumberRedaction.quoted(text))\" is not an amount like 49.00")
        }
        return amount
    }

    private static func seconds(_ interval: Double) -> String {
        let whole = Int(interval.rounded(.down))
        return whole == 1 ? "1 second" : "\(whole) seconds"
    }
}
