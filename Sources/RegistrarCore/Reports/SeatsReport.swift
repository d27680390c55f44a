import Foundation

/// `reports seats`: what was sold for a course run. Pure over what the store gathers.
public struct SeatsReport: Sendable, Equatable {
    /// One registration code of the course, as the report counts it.
    public struct CodeFact: Sendable, Equatable {
        public enum Origin: String, Sendable, Equatable, CaseIterable {
            case multiSeat = "multi_seat"
            case invoice
            case contract
        }

        public var origin: Origin
        public var state: String
        /// Learners who redeemed it, lower-cased.
        public var redeemedBy: [String]

        public init(origin: Origin, state: String, redeemedBy: [String] = []) {
            self.origin = origin
            self.state = state
            self.redeemedBy = redeemedBy
        }
    }

    public var courseID: String
    /// Lines of one seat (quantity 1) that enrolled their buyer and were not refunded whole.
    public var paidSingleSeats: Int
    /// Codes standing (redeemed or not), by origin: a voided code was not sold.
    public var codesGenerated: [CodeFact.Origin: Int]
    public var codesRedeemed: Int
    public var codesUnredeemed: Int
    public var codesVoid: Int
    /// The seed's formula: paid single seats + codes generated.
    public var seatsSold: Int
    /// The same, without seats bought or codes redeemed by course staff.
    public var seatsSoldWithoutStaff: Int

    public static func compute(courseID: String, lines: [SaleLine], refunds: [RefundRecord], codes: [CodeFact],
                               staff: Set<String>) -> SeatsReport {
        let refunded = RefundAllocation.whollyRefunded(lines: lines, refunds: refunds)
        let paid = lines.filter { $0.courseID == courseID && $0.isSingleSeat && !refunded.contains($0.key) }
        var generated: [CodeFact.Origin: Int] = [:]
        for origin in CodeFact.Origin.allCases { generated[origin] = 0 }
        var redeemed = 0, unredeemed = 0, void = 0, redeemedByStaff = 0
        for code in codes {
            switch code.state {
            case "void":
                void += 1
                continue
            case "redeemed": redeemed += 1
            default:
                // An unlimited code stays active while learners redeem it: it counts as redeemed once it has been.
                if code.redeemedBy.isEmpty { unredeemed += 1 } else { redeemed += 1 }
            }
            generated[code.origin, default: 0] += 1
            if code.redeemedBy.contains(where: { staff.contains($0) }) { redeemedByStaff += 1 }
        }
        let codesTotal = generated.values.reduce(0, +)
        let staffSeats = paid.filter { staff.contains($0.email.lowercased()) }.count
        return SeatsReport(courseID: courseID, paidSingleSeats: paid.count, codesGenerated: generated, codesRedeemed: redeemed,
                           codesUnredeemed: unredeemed, codesVoid: void, seatsSold: paid.count + codesTotal,
                           seatsSoldWithoutStaff: paid.count - staffSeats + codesTotal - redeemedByStaff)
    }

    public var json: JSONValue {
        .object([
            "course_id": .string(courseID),
            "paid_single_seats": .number(Double(paidSingleSeats)),
            "codes_generated": .object(Dictionary(uniqueKeysWithValues: CodeFact.Origin.allCases.map {
                ($0.rawValue, JSONValue.number(Double(codesGenerated[$0] ?? 0)))
            })),
            "codes_redeemed": .number(Double(codesRedeemed)),
            "codes_unredeemed": .number(Double(codesUnredeemed)),
            "codes_void": .number(Double(codesVoid)),
            "seats_sold": .number(Double(seatsSold)),
            "seats_sold_without_staff": .number(Double(seatsSoldWithoutStaff)),
        ])
    }

    /// One row, the generated codes in a column per origin.
    public var csv: String {
        var writer = CSVWriter(header: ["course_id", "paid_single_seats", "codes_multi_seat", "codes_invoice", "codes_contract",
                                        "codes_redeemed", "codes_unredeemed", "codes_void", "seats_sold", "seats_sold_without_staff"])
        writer.add([courseID, String(paidSingleSeats), String(codesGenerated[.multiSeat] ?? 0), String(codesGenerated[.invoice] ?? 0),
                    String(codesGenerated[.contract] ?? 0), String(codesRedeemed), String(codesUnredeemed), String(codesVoid),
                    String(seatsSold), String(seatsSoldWithoutStaff)])
        return writer.text
    }
}
