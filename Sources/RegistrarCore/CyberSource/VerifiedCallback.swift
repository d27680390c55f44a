import Foundation

/// A CyberSource callback whose signature checked out, holding only values its signature covers.
public struct VerifiedCallback: Sendable, Equatable {
    public var profileID: String
    public var referenceNumber: String
    public var transactionID: String
    public var currency: String
    public var decision: CallbackDecision
    /// req_amount: what the checkout asked for.
    public var requestAmount: Decimal
    /// auth_amount: what was authorised; always present on ACCEPT, and possibly less than asked for
    /// (partial authorisation).
    public var authAmount: Decimal?
    public var reasonCode: String?
    public var message: String?
    /// req_card_number as CyberSource masks it; a full number is cut to its last four digits.
    public var maskedCard: String?
    public var signedDateTime: Date
    /// The signed fields only, for the record (card number masked).
    public var fields: [String: String]

    public init(profileID: String, referenceNumber: String, transactionID: String, currency: String,
                decision: CallbackDecision, requestAmount: Decimal, authAmount: Decimal?,
                reasonCode: String? = nil, message: String? = nil, maskedCard: String? = nil,
                signedDateTime: Date, fields: [String: String] = [:]) {
        self.profileID = profileID
        self.referenceNumber = referenceNumber
        self.transactionID = transactionID
        self.currency = currency
        self.decision = decision
        self.requestAmount = requestAmount
        self.authAmount = authAmount
        self.reasonCode = reasonCode
        self.message = message
        self.maskedCard = maskedCard
        self.signedDateTime = signedDateTime
        self.fields = fields
    }
}
