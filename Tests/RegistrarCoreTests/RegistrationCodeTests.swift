import Foundation
import RegistrarCore
import TestSupport
import Testing

/// Registration codes: the format, what people type, the redemption rule, the CSV.
@Suite struct RegistrationCodeTests {
    func parsed(_ text: String) -> String? {
        if case .success(let code) = RegistrationCode.parse(text) { return code.value }
        return nil
    }

    @Test func whatPeopleTypeIsRead() {
        #expect(parsed("7KQ2-M9XD-4HTR") == "7KQ2M9XD4HTR")
        #expect(parsed("7kq2m9xd4htr") == "7KQ2M9XD4HTR")
        #expect(parsed(" 7kq2 m9xd 4htr ") == "7KQ2M9XD4HTR")
        // I, L and O are read as 1, 1 and 0, in either case.
        #expect(parsed("iLoO-0000-1111") == "1100" + "00001111")
        #expect(parsed("7KQ2-M9XD-4HT") == nil)
        #expect(parsed("7KQ2-M9XD-4HTRX") == nil)
        #expect(parsed("") == nil)
        #expect(RegistrationCode.parse("7KQ2-M9XD-4HTU") == .failure(.badCharacter("U")))
        #expect(RegistrationCode.parse("7KQ2-M9XD-4HT!") == .failure(.badCharacter("!")))
        #expect(RegistrationCode.parse("7KQ2_M9XD_4HTR") == .failure(.badCharacter("_")))
        #expect(RegistrationCode.parse("7KQ2-M9XD-4HTÉ") == .failure(.badCharacter("É")))
        #expect(RegistrationCode.parse(String(repeating: "A", count: 10_000)) == .failure(.wrongLength))
        #expect(CodeInputProblem.wrongLength.message == "a code has 12 letters and digits, like 7KQ2-M9XD-4HTR")
    }

    @Test func everyShapeOfACodeReadsBackToItself() throws {
        var random = SeededRandom(seed: 3)
        for _ in 0..<5000 {
            let code = RegistrationCode.generate(using: &random)
            #expect(code.value.count == 12)
            #expect(code.value.utf8.allSatisfy { RegistrationCode.alphabet.contains($0) })
            let typed = [code.value, code.grouped, code.grouped.lowercased(), code.value.lowercased().replacingOccurrences(of: "1", with: "l"),
                         code.value.replacingOccurrences(of: "0", with: "o").map { String($0) }.joined(separator: " ")]
            for text in typed { #expect(parsed(text) == code.value, "\(text)") }
        }
    }

    @Test func codesAreSpreadOverTheWholeAlphabet() {
        var counts: [UInt8: Int] = [:]
        for _ in 0..<4000 { for byte in RegistrationCode.generate().value.utf8 { counts[byte, default: 0] += 1 } }
        #expect(counts.count == 32)
        // 48,000 symbols over 32: 1,500 each; a biased draw would be far off.
        #expect(counts.values.allSatisfy { (1200...1800).contains($0) }, "\(counts)")
    }

    @Test func logsShowOnlyTheFirstFour() throws {
        let code = try RegistrationCode.parse("7KQ2M9XD4HTR").get()
        #expect(code.grouped == "7KQ2-M9XD-4HTR")
        #expect("\(code)" == "7KQ2…")
        #expect(code.logSafe == "7KQ2…")
    }

    @Test func theRedemptionRule() {
        let ada = "ada@example.com"
        #expect(RedemptionRules.decide(CodeFacts(state: .active), email: ada) == .redeem)
        #expect(RedemptionRules.decide(CodeFacts(state: .redeemed, redeemedBy: [ada]), email: ada) == .alreadyRedeemed)
        #expect(RedemptionRules.decide(CodeFacts(state: .redeemed, redeemedBy: ["bo@example.com"]), email: ada) == .refused(.spent))
        #expect(RedemptionRules.decide(CodeFacts(state: .void), email: ada) == .refused(.void))
        // A void code a learner had redeemed answers that learner with the same redemption (a retried request).
        #expect(RedemptionRules.decide(CodeFacts(state: .void, redeemedBy: [ada]), email: ada) == .alreadyRedeemed)
        #expect(RedemptionRules.decide(CodeFacts(state: .void, redeemedBy: ["bo@example.com"]), email: ada) == .refused(.void))
        // Unlimited: each learner once, any number of them.
        #expect(RedemptionRules.decide(CodeFacts(state: .active, unlimited: true, redeemedBy: ["bo@example.com", "cy@example.com"]), email: ada) == .redeem)
        #expect(RedemptionRules.decide(CodeFacts(state: .active, unlimited: true, redeemedBy: [ada]), email: ada) == .alreadyRedeemed)
        #expect(RedemptionRules.decide(CodeFacts(state: .active, price: Decimal(string: "99.00")!), email: ada) == .paymentRequired)
        #expect(RedemptionRules.decide(CodeFacts(state: .void, price: 5), email: ada) == .refused(.void))
        // Priced: a learner whose seat is held gets their order again; another learner finds a one-time code taken.
        let priced = CodeFacts(state: .active, price: 49, heldBy: [ada])
        #expect(RedemptionRules.decide(priced, email: ada) == .paymentPending)
        #expect(RedemptionRules.decide(priced, email: "bo@example.com") == .refused(.spent))
        var openPriced = priced
        openPriced.unlimited = true
        #expect(RedemptionRules.decide(openPriced, email: "bo@example.com") == .paymentRequired, "an unlimited code holds a seat per learner")
        #expect(RedemptionRules.decide(CodeFacts(state: .void, price: 49, heldBy: [ada]), email: ada) == .refused(.void))
        // Paid: the payer gets the seat unless another learner has it or holds it now.
        #expect(RedemptionRules.completePaid(priced, email: ada) == .redeem)
        #expect(RedemptionRules.completePaid(CodeFacts(state: .active, price: 49), email: ada) == .redeem, "a lapsed hold, the seat still free")
        #expect(RedemptionRules.completePaid(CodeFacts(state: .redeemed, price: 49, redeemedBy: ["bo@example.com"]), email: ada) == .refused(.spent))
        #expect(RedemptionRules.completePaid(CodeFacts(state: .active, price: 49, heldBy: ["bo@example.com"]), email: ada) == .refused(.spent))
        #expect(RedemptionRules.completePaid(CodeFacts(state: .redeemed, price: 49, redeemedBy: [ada]), email: ada) == .alreadyRedeemed)
        #expect(RedemptionRules.completePaid(CodeFacts(state: .void, price: 49, heldBy: [ada]), email: ada) == .refused(.void))
        #expect(RedemptionRules.stateAfterRedemption(unlimited: false) == .redeemed)
        #expect(RedemptionRules.stateAfterRedemption(unlimited: true) == .active)
        #expect(RedemptionRules.enrollKey(code: try! RegistrationCode.parse("7KQ2M9XD4HTR").get(), email: ada)
                == "code:7KQ2M9XD4HTR:ada@example.com")
    }

    /// Whatever a field holds, a strict RFC 4180 reader gets it back.
    @Test func csvFieldsSurviveAnyText() {
        var random = SeededRandom(seed: 9)
        let pieces = ["a", "é", "\"", ",", "\r\n", "\n", "\r", " ", "=1+2", "东京", "💡", "x\"y\"", ""]
        for _ in 0..<2000 {
            let fields = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                (0..<Int.random(in: 0...5, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            }
            var writer = CSVWriter(header: ["h"])
            writer.add(fields)
            let records = Self.readCSV(writer.text)
            #expect(records == [["h"], fields], "\(fields)")
        }
    }

    @Test func theCodesCSVHasTheDesignsColumns() throws {
        let code = try RegistrationCode.parse("7KQ2M9XD4HTR").get()
        let text = CodeCSV.render([CodeCSV.Row(code: code, courseID: "course-v1:edX+DemoX+2026", mode: "verified", source: "order",
                                               orderReference: "main:727:311", companyName: "Acme, \"Inc\"", state: .redeemed,
                                               redemptions: [("ada@example.com", "2026-12-03T10:00:00Z")])],
                                  publicURL: "https://registrar.example.edu")
        let records = Self.readCSV(text)
        #expect(records[0] == CodeCSV.header)
        #expect(records[1] == ["7KQ2-M9XD-4HTR", "https://registrar.example.edu/redeem?code=7KQ2-M9XD-4HTR", "course-v1:edX+DemoX+2026",
                               "verified", "order", "", "main:727:311", "Acme, \"Inc\"", "", "", "redeemed", "ada@example.com",
                               "2026-12-03T10:00:00Z"])
        #expect(text.hasSuffix("\r\n"))
        #expect(CodeCSV.redeemURL(code, publicURL: nil) == "")
    }

    /// A strict reader written for the test: quoted fields with doubled quotes, CRLF records.
    static func readCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                } else {
                    field.append(character)
                }
            } else if character == "\"" && field.isEmpty {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\r\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(character)
            }
        }
        return records
    }
}

@Suite struct RedemptionWordingTests {
    @Test func whatHappensNextFollowsTheUnknownLearnerPolicy() {
        let allow = RedemptionWording.success(course: "course-v1:a+b+c", email: "ada@example.com", lmsURL: "https://lms.school.edu", policy: .allow)
        #expect(allow.contains("Sign in at https://lms.school.edu with ada@example.com"))
        #expect(allow.contains("Register at https://lms.school.edu with this same email and you will be enrolled"))
        #expect(RedemptionWording.success(course: "c", email: "e", lmsURL: "u", policy: .wait).contains("waits for it"))
        #expect(RedemptionWording.success(course: "c", email: "e", lmsURL: "u", policy: .fail).contains("You need an account"))
        #expect(RedemptionWording.refusal(.spent).contains("someone else"))
        #expect(RedemptionWording.refusal(.void).contains("no longer valid"))
    }

    @Test func htmlEscapingLeavesNoMarkup() {
        #expect(HTMLEscaping.escaped(#"<a href="x" onclick='y'>&</a>"#) == "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(HTMLEscaping.escaped("Zoë 東京") == "Zoë 東京")
    }
}

@Suite struct CodesMailTests {
    @Test func theBuyersMailListsEveryCodeWithItsLink() {
        let payload = CodesMailPayload(to: "buyer@example.com", orderNumber: "WC-900", courseID: "course-v1:edX+DemoX+2026", mode: "audit",
                                       codes: ["7KQ2-M9XD-4HTR", "0000-0000-0001"])
        let (subject, text) = payload.message(publicURL: "https://registrar.example.edu")
        #expect(subject == "Your 2 seats for course-v1:edX+DemoX+2026 (order WC-900)")
        #expect(text.contains("  7KQ2-M9XD-4HTR   https://registrar.example.edu/redeem?code=7KQ2-M9XD-4HTR"))
        #expect(text.contains("  0000-0000-0001   https://registrar.example.edu/redeem?code=0000-0000-0001"))
        #expect(text.contains("at https://registrar.example.edu/redeem with their own email address"))
        let bare = payload.message(publicURL: nil).text
        #expect(bare.contains("\n  7KQ2-M9XD-4HTR\n") && !bare.contains("http"))
        #expect(payload.jsonText == #"{"codes":["7KQ2-M9XD-4HTR","0000-0000-0001"],"course_id":"course-v1:edX+DemoX+2026","mode":"audit","order_number":"WC-900","to":"buyer@example.com"}"#)
    }
}
