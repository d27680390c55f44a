import Foundation
import RegistrarCore
import Testing

@Suite struct CyberSourceMoneyTests {
    static func cents(_ value: Int64) -> Decimal {
        Decimal(sign: value < 0 ? .minus : .plus, exponent: -2, significand: Decimal(value.magnitude))
    }

    @Test(arguments: [("49.00", 4900), ("49", 4900), ("49.5", 4950), ("0.07", 7), ("49.000", 4900),
                      ("49.0100", 4901), ("-10.00", -1000), ("007.10", 710), ("0", 0), ("-0.00", 0),
                      ("999999999999999.99", 99_999_999_999_999_999)] as [(String, Int64)])
    func parsesWhatCyberSourceAndWooCommerceWrite(text: String, cents: Int64) throws {
        let parsed = try #require(Money.parse(text))
        #expect(parsed == Self.cents(cents))
        #expect(!parsed.isNaN)
    }

    @Test(arguments: ["", "-", ".", "1e3", "1E3", "49.001", "49.005", "49.", ".5", "+5", " 49.00", "49.00 ",
                      "1,000.00", "49,00", "0x10", "NaN", "inf", "٤٩", "４９", "--1", "1.2.3", "1 000",
                      "1000000000000000", "10.00\n"])
    func rejectsEverythingElse(text: String) {
        #expect(Money.parse(text) == nil)
    }

    @Test func formatsWithTwoDecimalsAndNoGrouping() {
        #expect(Money.format(49) == "49.00")
        #expect(Money.format(Self.cents(4950)) == "49.50")
        #expect(Money.format(0) == "0.00")
        #expect(Money.format(Self.cents(7)) == "0.07")
        #expect(Money.format(Self.cents(123_456_789)) == "1234567.89")
        #expect(Money.format(Self.cents(-1000)) == "-10.00")
        #expect(Money.format(Decimal(sign: .plus, exponent: 3, significand: 12)) == "12000.00")
    }

    @Test func roundsAThirdDecimalHalfToEven() {
        #expect(Money.format(Decimal(sign: .plus, exponent: -3, significand: 125)) == "0.12")
        #expect(Money.format(Decimal(sign: .plus, exponent: -3, significand: 135)) == "0.14")
        #expect(Money.format(Decimal(sign: .plus, exponent: -3, significand: 49_999)) == "50.00")
        #expect(Money.format(Decimal(sign: .minus, exponent: -3, significand: 1)) == "0.00")
    }

    @Test func formatAndParseRoundTrip() throws {
        for value: Int64 in [0, 1, 9, 10, 99, 100, 101, 4900, 123_456, -1, -4999, 99_999_999_999_999_999] {
            let text = Money.format(Self.cents(value))
            #expect(try #require(Money.parse(text)) == Self.cents(value), "\(text)")
        }
    }
}
