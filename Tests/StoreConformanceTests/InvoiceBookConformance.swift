import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `InvoiceBook`: an invoice, its codes and its mail in one commit; money as transactions; an append-only history;
/// a void that takes back only unredeemed codes.
@Suite struct InvoiceBookConformance {
    func checked(seats: Int = 25) throws -> InvoiceRules.Checked {
        try InvoiceRules.check(InvoiceRequest(courseID: "course-v1:edX+DemoX+2026", mode: "verified", seats: seats, unitPrice: "40.00",
                                              currency: "USD", companyName: "Acme", contactEmail: "buyer@acme.example",
                                              recipientEmail: "training@acme.example", customerReference: "ACME-1")).get()
    }

    @Test(arguments: Backends.all)
    func anInvoiceItsCodesAndItsMailAreOneCommit(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let (invoice, codes) = try await store.createInvoice(try checked(), actor: "cli:sales", publicURL: "https://r.example")
            #expect(invoice.status == .unpaid && invoice.total == 1000 && invoice.createdBy == "cli:sales")
            #expect(codes.count == 25 && codes.allSatisfy { $0.source == "invoice" && $0.sourceReference == String(invoice.id) })
            let mail = try #require(try await store.jobs(JobFilter(kind: .mail)).first)
            let payload = try mail.decodePayload(ComposedMailPayload.self)
            #expect(payload.to == "training@acme.example")
            let rows = try #require(payload.attachments.first).content.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.count == 26 && rows[0] == CodeCSV.header.joined(separator: ","))
            #expect(rows.dropFirst().allSatisfy { $0.contains(",invoice,\(invoice.id),,Acme,ACME-1,,active,,") })
            #expect(invoice.history.map(\.action) == ["created"])
        }
    }

    @Test(arguments: Backends.all)
    func paymentsRefundsAndAVoid(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let (invoice, codes) = try await store.createInvoice(try checked(seats: 3), actor: "a", publicURL: nil)
            #expect(try await store.recordTransaction(invoice: invoice.id, amount: 50, reference: "wire 1", actor: "fin").status == .partiallyPaid)
            #expect(try await store.recordTransaction(invoice: invoice.id, amount: 70, reference: nil, actor: "fin").status == .paid)
            let refunded = try await store.recordTransaction(invoice: invoice.id, amount: -120, reference: "credit note", actor: "fin")
            #expect(refunded.status == .refunded && refunded.transactions.map(\.amount) == [50, 70, -120])

            _ = try await store.redeem(codes[0].code, email: "ada@acme.example")
            let (void, count) = try await store.voidInvoice(id: invoice.id, actor: "sales")
            #expect(void.status == .void && count == 2)
            #expect(try await store.code(codes[0].code)?.state == .redeemed)
            #expect(try await store.code(codes[1].code)?.state == .void)
            #expect(try await store.voidInvoice(id: invoice.id, actor: "sales").voidedCodes == 0)
            await #expect(throws: InvoiceError.void(invoice.id)) {
                try await store.recordTransaction(invoice: invoice.id, amount: 1, reference: nil, actor: "fin")
            }
            await #expect(throws: InvoiceError.notFound(999)) {
                try await store.recordTransaction(invoice: 999, amount: 1, reference: nil, actor: "fin")
            }
            let history = try #require(try await store.invoice(id: invoice.id)).history
            #expect(history.map(\.action) == ["created", "payment", "payment", "refund", "void"])
            #expect(history[3].detail == "120.00 USD (credit note)")
            #expect(try await store.invoices(limit: 10).map(\.id) == [invoice.id])
        }
    }
}
