import Foundation
import RegistrarCore
import Testing

@Suite struct CyberSourceSignedDateTimeTests {
    @Test func formatsUTCWholeSeconds() {
        #expect(SignedDateTime.format(Date(timeIntervalSince1970: 1_408_370_830)) == "2014-08-18T14:07:10Z")
        #expect(SignedDateTime.format(Date(timeIntervalSince1970: 1_408_370_830.999)) == "2014-08-18T14:07:10Z")
        #expect(SignedDateTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(SignedDateTime.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        #expect(SignedDateTime.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }

    @Test func parsesExactlyTheSignedForm() {
        #expect(SignedDateTime.parse("2014-08-18T14:07:10Z") == Date(timeIntervalSince1970: 1_408_370_830))
        #expect(SignedDateTime.parse("2000-02-29T00:00:00Z") == Date(timeIntervalSince1970: 951_782_400))
        #expect(SignedDateTime.parse("2024-02-29T23:59:59Z") != nil)
        for bad in ["2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2014-13-01T00:00:00Z", "2014-00-01T00:00:00Z",
                    "2014-04-31T00:00:00Z", "2014-08-18T14:60:10Z", "2014-08-18T14:07:60Z", "2014-08-18t14:07:10Z",
                    "2014-08-18T14:07:10z", "2014-8-18T14:07:10Z", "+014-08-18T14:07:10Z", "2014-08-18T14:07:1OZ"] {
            #expect(SignedDateTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func agreesWithFoundationAcrossCenturies() throws {
        var generator = SystemRandomNumberGenerator()
        let iso = Date.ISO8601FormatStyle()
        // 1900-01-01 … 2199-12-31, whole seconds.
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: TimeInterval(Int64.random(in: -2_208_988_800...7_258_118_399,
                                                                             using: &generator)))
            let text = SignedDateTime.format(date)
            #expect(text == iso.format(date), "\(date.timeIntervalSince1970)")
            #expect(SignedDateTime.parse(text) == date)
        }
    }
}
