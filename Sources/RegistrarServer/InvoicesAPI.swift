import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import RegistrarCore
import RegistrarStore

/// `/api/v1/invoices…`: sales admins record invoices (codes and the recipient's mail in one commit), payments,
/// refunds and voids; finance admins read. A scoped token sees and touches only its courses' invoices.
struct InvoicesAPI: Sendable {
    let store: any InvoiceBook & CodeBook
    let publicURL: String?
    let logger: Logger

    struct CreateRequest: Decodable {
        var course_id: String
        var mode: String?
        var seats: Int
        var unit_price: String
        var currency: String
        var company_name: String
        var contact_name: String?
        var contact_email: String
        var recipient_name: String?
        var recipient_email: String
        var po_number: String?
        var customer_reference: String?
        var internal_reference: String?
        var address: String?
        var note: String?
    }

    struct TransactionRequest: Decodable {
        var kind: String
        var amount: String
        var reference: String?
    }

    func register(_ api: RouterGroup<RegistrarRequestContext>, maxBody: Int) {
        let writing = api.group("invoices").add(middleware: RequireRole(.salesAdmin))
        let reading = api.group("invoices").add(middleware: RequireRole(.salesAdmin, .financeAdmin))
        writing.post { request, context -> Response in
            guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: maxBody) else { return Self.tooLarge }
            return await create(body, token: context.identity)
        }
        reading.get { _, context -> Response in
            do {
                let invoices = try await store.invoices(limit: 1000).filter { context.identity?.covers($0.request.courseID) ?? true }
                return JSONResponse.make(.ok, json: .object(["invoices": .array(invoices.map(Self.json))]))
            } catch { return JSONResponse.databaseUnavailable(error) }
        }
        reading.get(":id") { _, context -> Response in
            await withInvoice(context) { invoice in JSONResponse.make(.ok, json: Self.json(invoice)) }
        }
        reading.get(":id/codes.csv") { _, context -> Response in
            await withInvoice(context) { invoice in
                let codes = (try? await store.codes(CodeFilter(source: "invoice", sourceReference: String(invoice.id),
                                                               limit: InvoiceRules.maxSeats))) ?? []
                let csv = CodeCSV.render(invoice.csvRows(codes.reversed()), publicURL: publicURL)
                var headers = HTTPFields()
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"invoice-\(invoice.id)-codes.csv\""
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
            }
        }
        writing.post(":id/transactions") { request, context -> Response in
            guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: maxBody) else { return Self.tooLarge }
            return await withInvoice(context) { invoice in await transaction(invoice, body: body, actor: context.identity?.name ?? "api") }
        }
        writing.post(":id/void") { _, context -> Response in
            await withInvoice(context) { invoice in
                do {
                    let (voided, codes) = try await store.voidInvoice(id: invoice.id, actor: context.identity?.name ?? "api")
                    var answer = Self.json(voided)
                    if case .object(var object) = answer {
                        object["codes_voided"] = .number(Double(codes))
                        answer = .object(object)
                    }
                    return JSONResponse.make(.ok, json: answer)
                } catch { return JSONResponse.databaseUnavailable(error) }
            }
        }
    }

    func create(_ body: [UInt8], token: APIToken?) async -> Response {
        let input: CreateRequest
        do { input = try JSONDecoder().decode(CreateRequest.self, from: Data(body)) } catch {
            return JSONResponse.error(.badRequest, code: "malformed_invoice", message: "the invoice is not the expected JSON: \(OrdersAPI.describe(error))")
        }
        let request = InvoiceRequest(courseID: input.course_id, mode: input.mode, seats: input.seats, unitPrice: input.unit_price,
                                     currency: input.currency, companyName: input.company_name, contactName: input.contact_name,
                                     contactEmail: input.contact_email, recipientName: input.recipient_name,
                                     recipientEmail: input.recipient_email, poNumber: input.po_number,
                                     customerReference: input.customer_reference, internalReference: input.internal_reference,
                                     address: input.address, note: input.note)
        let checked: InvoiceRules.Checked
        switch InvoiceRules.check(request) {
        case .success(let found): checked = found
        case .failure(let problem): return JSONResponse.error(.badRequest, code: "invalid_invoice", message: problem.message)
        }
        if let token, !token.covers(checked.request.courseID) {
            return JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(checked.request.courseID)")
        }
        do {
            let (invoice, _) = try await store.createInvoice(checked, actor: token?.name ?? "api", publicURL: publicURL)
            logger.info("invoice created", metadata: ["invoice": "\(invoice.id)", "seats": "\(invoice.request.seats)", "by": "\(invoice.createdBy)"])
            return JSONResponse.make(.created, json: Self.json(invoice))
        } catch { return JSONResponse.databaseUnavailable(error) }
    }

    func transaction(_ invoice: Invoice, body: [UInt8], actor: String) async -> Response {
        guard let input = try? JSONDecoder().decode(TransactionRequest.self, from: Data(body)),
              ["payment", "refund"].contains(input.kind) else {
            return JSONResponse.error(.badRequest, code: "malformed_transaction",
                                      message: "expected {\"kind\": \"payment\"|\"refund\", \"amount\": \"49.00\", \"reference\": \"…\"}")
        }
        guard let amount = Money.parse(input.amount), amount > 0 else {
            return JSONResponse.error(.badRequest, code: "invalid_amount", message: "amount \"\(input.amount.prefix(32))\" is not an amount like 49.00")
        }
        if let reference = input.reference, ControlCharacterEscaping.containsControl(reference) || reference.count > 200 {
            return JSONResponse.error(.badRequest, code: "invalid_reference", message: "reference holds a control character or is too long")
        }
        do {
            let updated = try await store.recordTransaction(invoice: invoice.id, amount: input.kind == "payment" ? amount : -amount,
                                                            reference: input.reference, actor: actor)
            return JSONResponse.make(.created, json: Self.json(updated))
        } catch InvoiceError.void(let id) {
            return JSONResponse.error(.conflict, code: "invoice_void", message: InvoiceError.void(id).description)
        } catch { return JSONResponse.databaseUnavailable(error) }
    }

    /// The invoice the path names, if it exists and the token's scope covers it.
    func withInvoice(_ context: RegistrarRequestContext, _ body: (Invoice) async -> Response) async -> Response {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else {
            return JSONResponse.error(.notFound, code: "unknown_invoice", message: "no such invoice")
        }
        do {
            guard let invoice = try await store.invoice(id: id) else {
                return JSONResponse.error(.notFound, code: "unknown_invoice", message: "no invoice \(id)")
            }
            if let token = context.identity, !token.covers(invoice.request.courseID) {
                return JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(invoice.request.courseID)")
            }
            return await body(invoice)
        } catch { return JSONResponse.databaseUnavailable(error) }
    }

    static let tooLarge = JSONResponse.error(.contentTooLarge, code: "too_large", message: "the body is too large or unreadable")

    static func json(_ invoice: Invoice) -> JSONValue {
        let request = invoice.request
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            "id": .number(Double(invoice.id)), "status": .string(invoice.status.rawValue), "course_id": .string(request.courseID),
            "mode": text(request.mode), "seats": .number(Double(request.seats)), "unit_price": .string(Money.format(invoice.unitPrice)),
            "total": .string(Money.format(invoice.total)), "currency": .string(request.currency), "company_name": .string(request.companyName),
            "contact_name": text(request.contactName), "contact_email": .string(request.contactEmail),
            "recipient_name": text(request.recipientName), "recipient_email": .string(request.recipientEmail),
            "po_number": text(request.poNumber), "customer_reference": text(request.customerReference),
            "internal_reference": text(request.internalReference), "address": text(request.address), "note": text(request.note),
            "created_by": .string(invoice.createdBy), "created_at": .string(Timestamp.format(invoice.createdAt)),
            "transactions": .array(invoice.transactions.map { transaction in
                .object(["amount": .string(Money.format(transaction.amount)), "reference": text(transaction.reference),
                         "recorded_by": .string(transaction.recordedBy), "at": .string(Timestamp.format(transaction.at))])
            }),
            "history": .array(invoice.history.map { event in
                .object(["at": .string(Timestamp.format(event.at)), "actor": .string(event.actor), "action": .string(event.action),
                         "detail": .string(event.detail)])
            }),
        ])
    }
}
