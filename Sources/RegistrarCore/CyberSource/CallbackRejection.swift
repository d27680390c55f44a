/// Why a CyberSource callback was refused. Payloads are already safe to log: untrusted values are bounded
/// and any card number in them is masked.
public enum CallbackRejection: Error, Sendable, Equatable {
    /// Not form encoded, one field name with two different values, no signature or signed_field_names.
    case malformed(String)
    /// req_profile_id names no configured profile, so there is no key to check the signature with.
    case unknownProfile(String)
    case badSignature
    /// The named required field is missing from signed_field_names, or missing from the callback.
    case unsignedField(String)
    /// signed_date_time is outside the replay window; the payload says by how much.
    case stale(String)
    /// A signed field has a value Registrar cannot act on (unknown decision, unparseable amount, …).
    case invalidValue(String)

    /// 401 only where the sender could not be authenticated; everything after a valid signature is 400.
    public var httpStatus: Int {
        switch self {
        case .unknownProfile, .badSignature: 401
        case .malformed, .unsignedField, .stale, .invalidValue: 400
        }
    }

    /// The `error` code of the JSON answer.
    public var code: String {
        switch self {
        case .malformed: "malformed"
        case .unknownProfile: "unknown_profile"
        case .badSignature: "bad_signature"
        case .unsignedField: "unsigned_field"
        case .stale: "stale"
        case .invalidValue: "invalid_value"
        }
    }

    public var message: String {
        switch self {
        case .malformed(let detail):
            "The callback is malformed: \(detail)."
        case .unknownProfile(let profile):
            "No CyberSource profile \"\(profile)\" is configured, so the callback's signature cannot be checked."
        case .badSignature:
            "The callback's signature does not match its signed fields under the profile's secret key."
        case .unsignedField(let name):
            "The required field \(name) is not covered by the callback's signature "
                + "(it is missing from signed_field_names or from the callback)."
        case .stale(let detail):
            "The callback's signed_date_time is outside the replay window: \(detail)."
        case .invalidValue(let detail):
            "The callback carries a value that cannot be acted on: \(detail)."
        }
    }
}
