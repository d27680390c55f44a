import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: InvoiceBook {
    public func createInvoice(_ checked: InvoiceRules.Checked, actor: String, publicURL: String?) async throws -> (Invoice, [CodeRecord]) {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let request = checked.request
        let result = try await write { db -> (Invoice, [CodeRecord]) in
            try db.execute(sql: """
                INSERT INTO invoices (course_id, mode, seats, unit_price, currency, total, company_name, contact_name, contact_email,
                                      recipient_name, recipient_email, po_number, customer_reference, internal_reference, address,
                                      note, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [request.courseID, request.mode, request.seats, Money.format(checked.unitPrice), request.currency,
                                 Money.format(checked.total), request.companyName, request.contactName, request.contactEmail,
                                 request.recipientName, request.recipientEmail, request.poNumber, request.customerReference,
                                 request.internalReference, request.address, request.note, actor, StoredDate.text(now)])
            let id = db.lastInsertedRowID
            let codes = try CodeTable.create(NewCodes(count: request.seats, courseID: request.courseID, mode: request.mode,
                                                      source: "invoice", sourceReference: String(id)), now: now, in: db)
            try InvoiceTable.log(id, actor: actor, action: "created",
                                 detail: "\(request.seats) seats of \(request.courseID) for \(request.companyName), \(Money.format(checked.total)) \(request.currency)",
                                 now: now, in: db)
            guard let invoice = try InvoiceTable.invoice(id, in: db) else { throw InvoiceError.notFound(id) }
            let csv = CodeCSV.render(invoice.csvRows(codes), publicURL: publicURL)
            let mail = InvoiceRules.mail(invoiceID: id, request: request, total: checked.total, csv: csv, publicURL: publicURL)
            _ = try JobTable.insert([NewJob(kind: .mail, dedupeKey: "invoice:\(id):codes-mail", payload: mail.jsonText, source: "invoice:\(id)")],
                                    deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
            return (invoice, codes)
        }
        jobsMayRun()
        return result
    }

    public func invoices(limit: Int) async throws -> [Invoice] {
        try await read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM invoices ORDER BY id DESC LIMIT ?", arguments: [limit])
                .compactMap { try InvoiceTable.invoice($0, in: db) }
        }
    }

    public func invoice(id: Int64) async throws -> Invoice? {
        try await read { db in try InvoiceTable.invoice(id, in: db) }
    }

    public func recordTransaction(invoice id: Int64, amount: Decimal, reference: String?, actor: String) async throws -> Invoice {
        let now = clock.now()
        return try await write { db in
            guard let invoice = try InvoiceTable.invoice(id, in: db) else { throw InvoiceError.notFound(id) }
            guard invoice.voidedAt == nil else { throw InvoiceError.void(id) }
            try db.execute(sql: "INSERT INTO invoice_transactions (invoice_id, amount, reference, recorded_by, at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, Money.format(amount), reference, actor, StoredDate.text(now)])
            let what = amount >= 0 ? "payment" : "refund"
            try InvoiceTable.log(id, actor: actor, action: what,
                                 detail: "\(Money.format(abs(amount))) \(invoice.request.currency)\(reference.map { " (\($0))" } ?? "")",
                                 now: now, in: db)
            guard let updated = try InvoiceTable.invoice(id, in: db) else { throw InvoiceError.notFound(id) }
            return updated
        }
    }

    public func voidInvoice(id: Int64, actor: String) async throws -> (Invoice, voidedCodes: Int) {
        let now = clock.now()
        return try await write { db in
            guard let invoice = try InvoiceTable.invoice(id, in: db) else { throw InvoiceError.notFound(id) }
            guard invoice.voidedAt == nil else { return (invoice, 0) }
            try db.execute(sql: "UPDATE invoices SET voided_at = ? WHERE id = ?", arguments: [StoredDate.text(now), id])
            // Unredeemed codes only: a learner who redeemed keeps the seat (an operator revokes it if need be).
            try db.execute(sql: """
                UPDATE codes SET state = 'void', void_reason = ?, voided_at = ?, voided_by = ?
                WHERE source = 'invoice' AND source_ref = ? AND state = 'active'
                  AND NOT EXISTS (SELECT 1 FROM code_redemptions r WHERE r.code = codes.code)
                """, arguments: ["invoice \(id) void", StoredDate.text(now), actor, String(id)])
            let voided = db.changesCount
            try InvoiceTable.log(id, actor: actor, action: "void", detail: "\(voided) unredeemed codes voided", now: now, in: db)
            guard let updated = try InvoiceTable.invoice(id, in: db) else { throw InvoiceError.notFound(id) }
            return (updated, voided)
        }
    }
}

enum InvoiceTable {
    static func log(_ id: Int64, actor: String, action: String, detail: String, now: Date, in db: Database) throws {
        try db.execute(sql: "INSERT INTO invoice_history (invoice_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [id, StoredDate.text(now), actor, action, detail])
    }

    static func invoice(_ id: Int64, in db: Database) throws -> Invoice? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM invoices WHERE id = ?", arguments: [id]) else { return nil }
        let request = InvoiceRequest(courseID: row["course_id"], mode: row["mode"], seats: row["seats"], unitPrice: row["unit_price"],
                                     currency: row["currency"], companyName: row["company_name"], contactName: row["contact_name"],
                                     contactEmail: row["contact_email"], recipientName: row["recipient_name"],
                                     recipientEmail: row["recipient_email"], poNumber: row["po_number"],
                                     customerReference: row["customer_reference"], internalReference: row["internal_reference"],
                                     address: row["address"], note: row["note"])
        let transactions = try Row.fetchAll(db, sql: """
            SELECT amount, reference, recorded_by, at FROM invoice_transactions WHERE invoice_id = ? ORDER BY id
            """, arguments: [id]).map {
            Invoice.Transaction(amount: Money.parse($0["amount"] as String) ?? 0, reference: $0["reference"], recordedBy: $0["recorded_by"],
                                at: $0["at"])
        }
        let history = try Row.fetchAll(db, sql: "SELECT at, actor, action, detail FROM invoice_history WHERE invoice_id = ? ORDER BY id",
                                       arguments: [id]).map {
            Invoice.Event(at: $0["at"], actor: $0["actor"], action: $0["action"], detail: $0["detail"])
        }
        return Invoice(id: id, request: request, unitPrice: Money.parse(row["unit_price"] as String) ?? 0,
                       total: Money.parse(row["total"] as String) ?? 0, createdBy: row["created_by"], createdAt: row["created_at"],
                       voidedAt: row["voided_at"], transactions: transactions, history: history)
    }
}
