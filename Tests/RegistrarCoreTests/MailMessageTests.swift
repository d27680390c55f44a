import Foundation
import RegistrarCore
import Testing

/// `MailMessage`: RFC 5322 / MIME text that any mail client reads, and no header a value can break out of.
@Suite struct MailMessageTests {
    let date = Date(timeIntervalSince1970: 1_796_292_000) // Thu, 03 Dec 2026 10:00:00 +0000

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// The decoded body of a single-part message.
    func body(_ rendered: String) -> String {
        let parts = rendered.components(separatedBy: "\r\n\r\n")
        let base64 = parts.dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")
        return String(decoding: Data(base64Encoded: base64) ?? Data(), as: UTF8.self)
    }

    @Test func aPlainMessage() throws {
        let message = MailMessage(from: "Registrar <no-reply@school.edu>", to: "buyer@example.com", replyTo: "help@school.edu",
                                  subject: "Your 2 seats", text: "Hello,\nyour codes:\n  7KQ2-M9XD-4HTR\n", messageID: "registrar-job-7@school.edu")
        let rendered = text(try message.rendered(date: date))
        #expect(rendered.hasPrefix("From: \"Registrar\" <no-reply@school.edu>\r\nTo: buyer@example.com\r\nReply-To: help@school.edu\r\n"))
        #expect(rendered.contains("\r\nSubject: Your 2 seats\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <registrar-job-7@school.edu>\r\n"))
        #expect(rendered.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"))
        #expect(body(rendered) == "Hello,\nyour codes:\n  7KQ2-M9XD-4HTR\n")
        #expect(!rendered.contains("\n\n") && rendered.hasSuffix("\r\n"))
        #expect(rendered.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
        #expect(message.fromAddress == "no-reply@school.edu")
    }

    @Test func nonASCIIHeadersAreEncodedWords() throws {
        let message = MailMessage(from: "École Numérique <no-reply@school.edu>", to: "zoë@example.com",
                                  subject: "Vos 2 places pour « Démo » — commande 727, merci beaucoup pour votre achat",
                                  text: "Merci", messageID: "m@x")
        let rendered = text(try message.rendered(date: date))
        #expect(rendered.contains("From: =?utf-8?B?"))
        #expect(rendered.contains("Subject: =?utf-8?B?"))
        // Every encoded word is at most 75 characters, and they decode back to the subject.
        let subjectLines = rendered.components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject:") }.prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        let words = subjectLines.map { $0.replacingOccurrences(of: "Subject: ", with: "").trimmingCharacters(in: .whitespaces) }
        #expect(words.allSatisfy { $0.count <= 75 })
        let decoded = words.map { word in
            String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == message.subject)
    }

    @Test func aHeaderValueCannotAddAHeader() {
        for message in [MailMessage(from: "a@b", to: "x@y\r\nBcc: all@example.com", subject: "s", text: "", messageID: "m"),
                        MailMessage(from: "a@b", to: "x@y", subject: "s\nX-Evil: 1", text: "", messageID: "m"),
                        MailMessage(from: "a@b", to: "x@y", replyTo: "r@s\r", subject: "s", text: "", messageID: "m")] {
            #expect(throws: MailMessage.Refusal.self) { try message.rendered(date: date) }
        }
    }

    @Test func attachmentsMakeAMultipartMessage() throws {
        let csv = Array("code,redeem_url\r\n7KQ2-M9XD-4HTR,\r\n".utf8)
        let message = MailMessage(from: "a@b", to: "x@y", subject: "Invoice 12", text: "Attached.",
                                  attachments: [.init(filename: "invoice-12-codes.csv", data: csv)], messageID: "registrar-job-9@x")
        let rendered = text(try message.rendered(date: date))
        #expect(rendered.contains(#"Content-Type: multipart/mixed; boundary="=_registrar_registrarjob9x""#))
        #expect(rendered.contains("--=_registrar_registrarjob9x\r\nContent-Type: text/csv; charset=utf-8; name=\"invoice-12-codes.csv\"\r\nContent-Disposition: attachment; filename=\"invoice-12-codes.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\(Data(csv).base64EncodedString())\r\n"))
        #expect(rendered.hasSuffix("--=_registrar_registrarjob9x--\r\n"))
    }

    @Test func datesAreRFC5322() {
        #expect(MailMessage(from: "a@b", to: "c@d", subject: "s", text: "", messageID: "m").fromAddress == "a@b")
        for (seconds, expected) in [(0.0, "Thu, 01 Jan 1970 00:00:00 +0000"), (1_796_292_000, "Thu, 03 Dec 2026 10:00:00 +0000"),
                                    (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000")] {
            let message = MailMessage(from: "a@b", to: "c@d", subject: "s", text: "", messageID: "m")
            let rendered = String(decoding: (try? message.rendered(date: Date(timeIntervalSince1970: seconds))) ?? [], as: UTF8.self)
            #expect(rendered.contains("Date: \(expected)\r\n"), "\(seconds)")
        }
    }
}
