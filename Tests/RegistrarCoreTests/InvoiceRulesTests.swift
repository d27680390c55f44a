import Foundation
import RegistrarCore
import Testing

/// `InvoiceRules`: what an invoice must hold, its status from its transactions, and the recipient's mail.
@Suite struct InvoiceRulesTests {
    func request(seats: Int = 25, price: String = "40.00", currency: String = "usd", company: String = " Acme ",
                 contact: String = "Buyer@Acme.example", recipient: String = "training@acme.example", po: String? = "PO-7") -> InvoiceRequest {
        InvoiceRequest(courseID: "course-v1:edX+DemoX+2026", mode: "verified", seats: seats, unitPrice: price, currency: currency,
                       companyName: company, contactEmail: contact, recipientName: "Tess", recipientEmail: recipient, poNumber: po)
    }

    func refusal(_ request: InvoiceRequest) -> String? {
        if case .failure(let problem) = InvoiceRules.check(request) { return problem.message }
        return nil
    }

    @Test func aGoodInvoiceIsNormalisedAndTotalled() throws {
        let checked = try InvoiceRules.check(request()).get()
        #expect(checked.total == Decimal(1000))
        #expect(checked.request.currency == "USD" && checked.request.companyName == "Acme" && checked.request.contactEmail == "buyer@acme.example")
    }

    @Test func refusalsNameTheField() {
        #expect(refusal(request(seats: 0)) == "seats must be between 1 and 10000")
        #expect(refusal(request(seats: 10_001)) != nil)
        #expect(refusal(request(price: "-1"))?.contains("unit price") == true)
        #expect(refusal(request(currency: "euro"))?.contains("currency") == true)
        #expect(refusal(request(company: "  ")) == "company name is empty")
        #expect(refusal(request(contact: "nobody"))?.hasPrefix("contact email:") == true)
        #expect(refusal(request(recipient: "a@b\nBcc: x@y"))?.hasPrefix("recipient email:") == true)
        #expect(refusal(request(po: "PO\r\n7")) == "PO number holds a line break or a control character")
        var wrongCourse = request()
        wrongCourse.courseID = "DemoX"
        #expect(refusal(wrongCourse)?.contains("is not a course run key") == true)
    }

    @Test func theStatusFollowsTheMoney() {
        let total = Decimal(1000)
        #expect(InvoiceRules.status(total: total, transactions: [], voided: false) == .unpaid)
        #expect(InvoiceRules.status(total: total, transactions: [400], voided: false) == .partiallyPaid)
        #expect(InvoiceRules.status(total: total, transactions: [400, 600], voided: false) == .paid)
        #expect(InvoiceRules.status(total: total, transactions: [1200], voided: false) == .paid)
        #expect(InvoiceRules.status(total: total, transactions: [1000, -300], voided: false) == .partiallyPaid)
        #expect(InvoiceRules.status(total: total, transactions: [1000, -1000], voided: false) == .refunded)
        #expect(InvoiceRules.status(total: total, transactions: [1000], voided: true) == .void)
        #expect(InvoiceRules.status(total: 0, transactions: [], voided: false) == .paid)
    }

    @Test func theRecipientsMailCarriesTheCodesCSV() throws {
        let checked = try InvoiceRules.check(request(seats: 2)).get()
        let mail = InvoiceRules.mail(invoiceID: 12, request: checked.request, total: checked.total, csv: "code,redeem_url\r\n", publicURL: "https://r.example")
        #expect(mail.to == "training@acme.example")
        #expect(mail.subject == "Invoice 12: 2 seats for course-v1:edX+DemoX+2026")
        #expect(mail.text.hasPrefix("Hello Tess,") && mail.text.contains("https://r.example/redeem") && mail.text.contains("Your PO number: PO-7"))
        #expect(mail.attachments == [.init(filename: "invoice-12-codes.csv", content: "code,redeem_url\r\n")])
        #expect(mail.jsonText == (try JSONText.encode(mail)))
    }
}
