import Foundation
import RegistrarCore

/// Invoices for out-of-band sales of seats (role `sales_admin`). Every method is one commit.
public protocol InvoiceBook: Sendable {
    /// Records the invoice, its one-time codes (source `invoice`, reference its id) and a `mail` job sending the
    /// codes CSV to the recipient, in one commit.
    /// - Parameter publicURL: for the redeem links in the CSV.
    func createInvoice(_ checked: InvoiceRules.Checked, actor: String, publicURL: String?) async throws -> (Invoice, [CodeRecord])

    /// Newest first.
    func invoices(limit: Int) async throws -> [Invoice]
    func invoice(id: Int64) async throws -> Invoice?

    /// A payment (positive) or a refund (negative), with a history entry. Throws `InvoiceError` for an unknown
    /// or void invoice.
    func recordTransaction(invoice id: Int64, amount: Decimal, reference: String?, actor: String) async throws -> Invoice

    /// Voids the invoice and its unredeemed codes (redeemed ones stay: nobody is unenrolled). Returns the invoice
    /// and how many codes were voided. Voiding twice changes nothing more.
    func voidInvoice(id: Int64, actor: String) async throws -> (Invoice, voidedCodes: Int)
}
