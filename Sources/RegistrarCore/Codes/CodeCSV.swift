/// The codes CSV of the design (invoices, `codes list --csv`): one row per code, whole codes (operators hand
/// them out), the redeem link when `server.public_url` is set.
public enum CodeCSV {
    public static let header = ["code", "redeem_url", "course_id", "mode", "source", "invoice_id", "order_reference",
                                "company_name", "customer_reference", "internal_reference", "state", "redeemed_by",
                                "redeemed_at"]

    /// One code's fields, in `header`'s order. Invoice and company fields are empty until invoices exist.
    public struct Row: Sendable {
        public var code: RegistrationCode
        public var courseID: String
        public var mode: String?
        public var source: String
        public var invoiceID: String?
        public var orderReference: String?
        public var companyName: String?
        public var customerReference: String?
        public var internalReference: String?
        public var state: CodeState
        /// Learners who redeemed it and when (ISO 8601), in order.
        public var redemptions: [(email: String, at: String)]

        public init(code: RegistrationCode, courseID: String, mode: String?, source: String, invoiceID: String? = nil,
                    orderReference: String? = nil, companyName: String? = nil, customerReference: String? = nil,
                    internalReference: String? = nil, state: CodeState, redemptions: [(email: String, at: String)]) {
            self.code = code
            self.courseID = courseID
            self.mode = mode
            self.source = source
            self.invoiceID = invoiceID
            self.orderReference = orderReference
            self.companyName = companyName
            self.customerReference = customerReference
            self.internalReference = internalReference
            self.state = state
            self.redemptions = redemptions
        }
    }

    /// `<public_url>/redeem?code=7KQ2-M9XD-4HTR`, or "" without a public URL.
    public static func redeemURL(_ code: RegistrationCode, publicURL: String?) -> String {
        publicURL.map { "\($0)/redeem?code=\(code.grouped)" } ?? ""
    }

    public static func render(_ rows: [Row], publicURL: String?) -> String {
        var writer = CSVWriter(header: header)
        for row in rows {
            writer.add([row.code.grouped, redeemURL(row.code, publicURL: publicURL), row.courseID, row.mode ?? "", row.source,
                        row.invoiceID ?? "", row.orderReference ?? "", row.companyName ?? "", row.customerReference ?? "",
                        row.internalReference ?? "", row.state.rawValue, row.redemptions.map(\.email).joined(separator: " "),
                        row.redemptions.map(\.at).joined(separator: " ")])
        }
        return writer.text
    }
}
