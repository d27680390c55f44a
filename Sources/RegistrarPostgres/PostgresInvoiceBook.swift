import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: InvoiceBook {
    public func createInvoice(_ checked: InvoiceRules.Checked, actor: String, publicURL: String?) async throws -> (Invoice, [CodeRecord]) {
        let request = checked.request
        let result = try await write { tx -> (Invoice, [CodeRecord]) in
            guard let id = try await tx.value("""
                INSERT INTO invoices (course_id, mode, seats, unit_price, currency, total, company_name, contact_name, contact_email,
                                      recipient_name, recipient_email, po_number, customer_reference, internal_reference, address,
                                      note, created_by, created_at)
                VALUES (\(request.courseID), \(request.mode), \(request.seats), \(Money.format(checked.unitPrice)), \(request.currency),
                        \(Money.format(checked.total)), \(request.companyName), \(request.contactName), \(request.contactEmail),
                        \(request.recipientName), \(request.recipientEmail), \(request.poNumber), \(request.customerReference),
                        \(request.internalReference), \(request.address), \(request.note), \(actor), \(tx.now))
                RETURNING id
                """, as: Int64.self) else { throw StoreError.corrupt("an invoice was inserted without an id") }
            let codes = try await CodeRows.create(NewCodes(count: request.seats, courseID: request.courseID, mode: request.mode,
                                                           source: "invoice", sourceReference: String(id)), in: tx)
            try await InvoiceRows.log(id, actor: actor, action: "created",
                                      detail: "\(request.seats) seats of \(request.courseID) for \(request.companyName), \(Money.format(checked.total)) \(request.currency)",
                                      in: tx)
            guard let invoice = try await InvoiceRows.invoice(id, in: tx) else { throw InvoiceError.notFound(id) }
            let csv = CodeCSV.render(invoice.csvRows(codes), publicURL: publicURL)
            let mail = InvoiceRules.mail(invoiceID: id, request: request, total: checked.total, csv: csv, publicURL: publicURL)
            _ = try await tx.insert([NewJob(kind: .mail, dedupeKey: "invoice:\(id):codes-mail", payload: mail.jsonText, source: "invoice:\(id)")],
                                    deliveryID: nil)
            return (invoice, codes)
        }
        jobsMayRun()
        return result
    }

    public func invoices(limit: Int) async throws -> [Invoice] {
        try await snapshot { tx in
            var invoices: [Invoice] = []
            for row in try await tx.rows("SELECT id FROM invoices ORDER BY id DESC LIMIT \(limit)") {
                if let invoice = try await InvoiceRows.invoice(try row.value("id"), in: tx) { invoices.append(invoice) }
            }
            return invoices
        }
    }

    public func invoice(id: Int64) async throws -> Invoice? {
        try await snapshot { tx in try await InvoiceRows.invoice(id, in: tx) }
    }

    public func recordTransaction(invoice id: Int64, amount: Decimal, reference: String?, actor: String) async throws -> Invoice {
        try await write { tx in
            guard let invoice = try await InvoiceRows.invoice(id, lock: true, in: tx) else { throw InvoiceError.notFound(id) }
            guard invoice.voidedAt == nil else { throw InvoiceError.void(id) }
            try await tx.run("""
                INSERT INTO invoice_transactions (invoice_id, amount, reference, recorded_by, at)
                VALUES (\(id), \(Money.format(amount)), \(reference), \(actor), \(tx.now))
                """)
            let what = amount >= 0 ? "payment" : "refund"
            try await InvoiceRows.log(id, actor: actor, action: what,
                                      detail: "\(Money.format(abs(amount))) \(invoice.request.currency)\(reference.map { " (\($0))" } ?? "")", in: tx)
            guard let updated = try await InvoiceRows.invoice(id, in: tx) else { throw InvoiceError.notFound(id) }
            return updated
        }
    }

    public func voidInvoice(id: Int64, actor: String) async throws -> (Invoice, voidedCodes: Int) {
        try await write { tx in
            guard let invoice = try await InvoiceRows.invoice(id, lock: true, in: tx) else { throw InvoiceError.notFound(id) }
            guard invoice.voidedAt == nil else { return (invoice, 0) }
            try await tx.run("UPDATE invoices SET voided_at = \(tx.now) WHERE id = \(id)")
            // Unredeemed codes only: a learner who redeemed keeps the seat (an operator revokes it if need be).
            let voided = try await tx.count("""
                UPDATE codes SET state = 'void', void_reason = \("invoice \(id) void"), voided_at = \(tx.now), voided_by = \(actor)
                WHERE source = 'invoice' AND source_ref = \(String(id)) AND state = 'active'
                  AND NOT EXISTS (SELECT 1 FROM code_redemptions r WHERE r.code = codes.code)
                RETURNING 1
                """)
            try await InvoiceRows.log(id, actor: actor, action: "void", detail: "\(voided) unredeemed codes voided", in: tx)
            guard let updated = try await InvoiceRows.invoice(id, in: tx) else { throw InvoiceError.notFound(id) }
            return (updated, voided)
        }
    }
}

enum InvoiceRows {
    static func log(_ id: Int64, actor: String, action: String, detail: String, in tx: Tx) async throws {
        try await tx.run("""
            INSERT INTO invoice_history (invoice_id, at, actor, action, detail) VALUES (\(id), \(tx.now), \(actor), \(action), \(detail))
            """)
    }

    static func invoice(_ id: Int64, lock: Bool = false, in tx: Tx) async throws -> Invoice? {
        guard let r = try await tx.row("SELECT * FROM invoices WHERE id = \(id)\(unescaped: lock ? " FOR UPDATE" : "")") else { return nil }
        let request = InvoiceRequest(courseID: try r.value("course_id"), mode: try r.value("mode"), seats: try r.value("seats"),
                                     unitPrice: try r.value("unit_price"), currency: try r.value("currency"),
                                     companyName: try r.value("company_name"), contactName: try r.value("contact_name"),
                                     contactEmail: try r.value("contact_email"), recipientName: try r.value("recipient_name"),
                                     recipientEmail: try r.value("recipient_email"), poNumber: try r.value("po_number"),
                                     customerReference: try r.value("customer_reference"),
                                     internalReference: try r.value("internal_reference"), address: try r.value("address"),
                                     note: try r.value("note"))
        let transactions = try await tx.rows("""
            SELECT amount, reference, recorded_by, at FROM invoice_transactions WHERE invoice_id = \(id) ORDER BY id
            """).map {
            Invoice.Transaction(amount: Money.parse(try $0.value("amount", as: String.self)) ?? 0, reference: try $0.value("reference"),
                                recordedBy: try $0.value("recorded_by"), at: try $0.value("at"))
        }
        let history = try await tx.rows("SELECT at, actor, action, detail FROM invoice_history WHERE invoice_id = \(id) ORDER BY id").map {
            Invoice.Event(at: try $0.value("at"), actor: try $0.value("actor"), action: try $0.value("action"), detail: try $0.value("detail"))
        }
        return Invoice(id: id, request: request, unitPrice: Money.parse(try r.value("unit_price", as: String.self)) ?? 0,
                       total: Money.parse(try r.value("total", as: String.self)) ?? 0, createdBy: try r.value("created_by"),
                       createdAt: try r.value("created_at"), voidedAt: try r.value("voided_at"), transactions: transactions, history: history)
    }
}
