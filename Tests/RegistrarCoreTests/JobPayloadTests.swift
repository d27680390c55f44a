import RegistrarCore
import Testing

/// Intake writes payload text through `JobPayload.jsonText`; operators, handlers and dedupe-by-text all saw
/// `JSONText.encode` until now, so the two must agree byte for byte on every shape a payload takes.
@Suite struct JobPayloadTests {
    static let texts = ["ann@example.com", "", "Ünïcödé é \u{301} 😀", "quote \" back\\slash /slash", "tab\tnew\nline\u{1}",
                        "course-v1:edX+DemoX+Demo_Course"]

    @Test func enrollAndUnenrollTextIsJSONEncodersText() throws {
        for email in Self.texts {
            for mode in [nil, "verified", "audit"] as [String?] {
                for reference in [nil, "727", "WC-0001/ß"] as [String?] {
                    let enroll = EnrollPayload(email: email, courseID: Self.texts.last!, mode: mode, orderReference: reference)
                    #expect(enroll.jsonText == (try JSONText.encode(enroll)))
                    let unenroll = UnenrollPayload(email: email, courseID: email, orderReference: reference)
                    #expect(unenroll.jsonText == (try JSONText.encode(unenroll)))
                }
            }
        }
    }

    @Test func refundTextIsJSONEncodersText() throws {
        let lines = [WooRefundJobPayload.Line(lineID: 315, courseID: "course-v1:edX+DemoX+Demo_Course", mode: "verified", quantity: 1),
                     WooRefundJobPayload.Line(lineID: 9_007_199_254_740_991, courseID: "é", quantity: -2),
                     WooRefundJobPayload.Line(lineID: 316, courseID: "course-v1:edX+DemoX+2026", quantity: 5, codes: true)]
        for orderID in [1, 727, 999_999_999_999_999, 1_000_000_000_000_000, 9_007_199_254_740_992] {
            for refundID in [nil, 0, 730] as [Int?] {
                for email in [nil, "ann@example.com"] as [String?] {
                    for lineSet in [[], lines] {
                        let payload = WooRefundJobPayload(store: "main", orderID: orderID, orderNumber: "WC-\(orderID)",
                                                          refundID: refundID, email: email, lines: lineSet)
                        #expect(payload.jsonText == (try JSONText.encode(payload)), "order \(orderID) refund \(String(describing: refundID))")
                    }
                }
            }
        }
    }

    @Test func catchUpAndCodesMailTextIsJSONEncodersText() throws {
        for text in Self.texts {
            for since in [nil, "2026-12-01T00:00:00"] as [String?] {
                let catchUp = WooCatchUpPayload(store: text, since: since)
                #expect(catchUp.jsonText == (try JSONText.encode(catchUp)))
            }
            for mode in [nil, "audit"] as [String?] {
                for codes in [[], ["7KQ2-M9XD-4HTR"], [text, "0000-0000-0001"]] {
                    let mail = CodesMailPayload(to: text, orderNumber: text, courseID: Self.texts.last!, mode: mode, codes: codes)
                    #expect(mail.jsonText == (try JSONText.encode(mail)))
                }
            }
        }
    }
}
