/// `codes-<id>.csv`, the seed's four columns: `Code,Product,Redeemed,Product URL`. Product is the run;
/// Redeemed is `No`, the learner (a one-time code) or how many redeemed it (an unlimited one); the URL is the
/// learner's `/redeem` page with the code filled in.
public enum ContractCodesCSV {
    public static let header = ["Code", "Product", "Redeemed", "Product URL"]

    public struct Row: Sendable {
        public var code: RegistrationCode
        public var courseID: String
        public var unlimited: Bool
        public var redeemedBy: [String]

        public init(code: RegistrationCode, courseID: String, unlimited: Bool, redeemedBy: [String]) {
            self.code = code
            self.courseID = courseID
            self.unlimited = unlimited
            self.redeemedBy = redeemedBy
        }

        var redeemed: String {
            if redeemedBy.isEmpty { return "No" }
            return unlimited ? String(redeemedBy.count) : redeemedBy[0]
        }
    }

    public static func fileName(contract id: Int64) -> String { "codes-\(id).csv" }

    public static func render(_ rows: [Row], publicURL: String?) -> String {
        var writer = CSVWriter(header: header)
        for row in rows {
            writer.add([row.code.grouped, row.courseID, row.redeemed, CodeCSV.redeemURL(row.code, publicURL: publicURL)])
        }
        return writer.text
    }
}
