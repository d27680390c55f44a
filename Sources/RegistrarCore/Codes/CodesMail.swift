import Foundation

extension JobKind {
    /// One message over SMTP.
    public static let mail: JobKind = "mail"
}

/// A `mail` job telling a buyer the codes of the seats they bought. The codes are in the payload, so a replay
/// sends the same codes; the text is composed from it (`message`).
public struct CodesMailPayload: Codable, Sendable, Equatable {
    public var to: String
    public var orderNumber: String
    public var courseID: String
    public var mode: String?
    /// Grouped (`7KQ2-M9XD-4HTR`), in creation order.
    public var codes: [String]

    public init(to: String, orderNumber: String, courseID: String, mode: String?, codes: [String]) {
        self.to = to
        self.orderNumber = orderNumber
        self.courseID = courseID
        self.mode = mode
        self.codes = codes
    }

    enum CodingKeys: String, CodingKey {
        case to, mode, codes
        case orderNumber = "order_number"
        case courseID = "course_id"
    }


    /// Subject and plain text, with a redeem link per code when the public URL is known.
    public func message(publicURL: String?) -> (subject: String, text: String) {
        let seats = codes.count == 1 ? "1 seat" : "\(codes.count) seats"
        var lines = ["Thank you for your order \(orderNumber).", "",
                     "You bought \(seats) in \(courseID). Each code below lets one person enroll: give one to each learner.", ""]
        for code in codes {
            if let parsed = try? RegistrationCode.parse(code).get() {
                lines.append(publicURL.map { "  \(code)   \(CodeCSV.redeemURL(parsed, publicURL: $0))" } ?? "  \(code)")
            }
        }
        lines += ["", publicURL.map { "A learner redeems a code at \($0)/redeem with their own email address." }
                  ?? "A learner redeems a code with their own email address.",
                  "Each code works once. Keep this message: it is the only copy of the codes we send."]
        return ("Your \(seats) for \(courseID) (order \(orderNumber))", lines.joined(separator: "\n"))
    }
}

extension CodesMailPayload: JobPayload {
    public var json: JSONValue {
        .fields(["to": .string(to), "order_number": .string(orderNumber), "course_id": .string(courseID),
                 "mode": mode.map(JSONValue.string), "codes": .array(codes.map(JSONValue.string))])
    }
}
