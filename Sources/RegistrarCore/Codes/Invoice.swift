import Foundation

/// Where an invoice stands, from its transactions: payments (positive) and refunds (negative).
public enum InvoiceStatus: String, Sendable, Codable, CaseIterable {
    case unpaid
    case partiallyPaid = "partially_paid"
    case paid
    case refunded
    case void
}

/// What a sales admin enters for an out-of-band sale of seats to a company.
public struct InvoiceRequest: Sendable, Equatable {
    public var courseID: String
    public var mode: String?
    public var seats: Int
    public var unitPrice: String
    public var currency: String
    public var companyName: String
    public var contactName: String?
    public var contactEmail: String
    public var recipientName: String?
    public var recipientEmail: String
    public var poNumber: String?
    public var customerReference: String?
    public var internalReference: String?
    public var address: String?
    public var note: String?

    public init(courseID: String, mode: String? = nil, seats: Int, unitPrice: String, currency: String, companyName: String,
                contactName: String? = nil, contactEmail: String, recipientName: String? = nil, recipientEmail: String,
                poNumber: String? = nil, customerReference: String? = nil, internalReference: String? = nil, address: String? = nil,
                note: String? = nil) {
        self.courseID = courseID
        self.mode = mode
        self.seats = seats
        self.unitPrice = unitPrice
        self.currency = currency
        self.companyName = companyName
        self.contactName = contactName
        self.contactEmail = contactEmail
        self.recipientName = recipientName
        self.recipientEmail = recipientEmail
        self.poNumber = poNumber
        self.customerReference = customerReference
        self.internalReference = internalReference
        self.address = address
        self.note = note
    }
}

/// The invoice rules, pure: what a request must hold, the total, the status from transactions, and the mail.
public enum InvoiceRules {
    public static let maxSeats = 10_000

    /// A request that passed, with its price and total in decimal and its emails normalised.
    public struct Checked: Sendable, Equatable {
        public var request: InvoiceRequest
        public var unitPrice: Decimal
        public var total: Decimal
    }

    public static func check(_ request: InvoiceRequest) -> Result<Checked, OrderRequestProblem> {
        var request = request
        guard CourseKey(request.courseID) != nil else {
            return .failure(.init("course \"\(ControlCharacterEscaping.escaped(String(request.courseID.prefix(120))))\" is not a course run key like course-v1:ORG+NUMBER+RUN"))
        }
        guard (1...maxSeats).contains(request.seats) else { return .failure(.init("seats must be between 1 and \(maxSeats)")) }
        guard let price = Money.parse(request.unitPrice), price >= 0 else {
            return .failure(.init("unit price \"\(ControlCharacterEscaping.escaped(String(request.unitPrice.prefix(32))))\" is not an amount like 49.00"))
        }
        let currency = request.currency.uppercased()
        guard Money.isCurrencyCode(currency) else {
            return .failure(.init("currency \"\(ControlCharacterEscaping.escaped(String(request.currency.prefix(16))))\" is not a three-letter ISO 4217 code"))
        }
        request.currency = currency
        request.companyName = request.companyName.trimmingCharacters(in: .whitespaces)
        guard !request.companyName.isEmpty else { return .failure(.init("company name is empty")) }
        for (name, email) in [("contact email", request.contactEmail), ("recipient email", request.recipientEmail)] {
            if let problem = EmailAddressRule.problem(email) { return .failure(.init("\(name): \(problem)")) }
        }
        request.contactEmail = normalizedEmail(request.contactEmail)
        request.recipientEmail = normalizedEmail(request.recipientEmail)
        // One-line fields end up in mail headers, CSVs and logs: no line breaks there. Address and note may have them.
        let oneLine: [(String, String?)] = [("company name", request.companyName), ("contact name", request.contactName),
                                            ("recipient name", request.recipientName), ("PO number", request.poNumber),
                                            ("customer reference", request.customerReference),
                                            ("internal reference", request.internalReference), ("mode", request.mode)]
        for (name, value) in oneLine {
            if let value, ControlCharacterEscaping.containsControl(value) { return .failure(.init("\(name) holds a line break or a control character")) }
            if let value, value.count > 200 { return .failure(.init("\(name) is longer than 200 characters")) }
        }
        for (name, value) in [("address", request.address), ("note", request.note)] where (value?.count ?? 0) > 2000 {
            return .failure(.init("\(name) is longer than 2000 characters"))
        }
        return .success(Checked(request: request, unitPrice: price, total: price * Decimal(request.seats)))
    }

    /// Payments add, refunds (negative amounts) take away; a void invoice is void whatever was paid.
    public static func status(total: Decimal, transactions: [Decimal], voided: Bool) -> InvoiceStatus {
        if voided { return .void }
        let paid = transactions.filter { $0 > 0 }.reduce(0, +)
        let net = transactions.reduce(0, +)
        if paid > 0 && net <= 0 { return .refunded }
        if net <= 0 { return total == 0 ? .paid : .unpaid }
        return net < total ? .partiallyPaid : .paid
    }

    /// The recipient's mail: the seats, how learners redeem, and the codes CSV attached.
    public static func mail(invoiceID: Int64, request: InvoiceRequest, total: Decimal, csv: String, publicURL: String?)
        -> ComposedMailPayload {
        let greeting = request.recipientName.map { "Hello \($0)," } ?? "Hello,"
        let seats = request.seats == 1 ? "1 seat" : "\(request.seats) seats"
        var lines = [greeting, "",
                     "Invoice \(invoiceID) for \(request.companyName): \(seats) in \(request.courseID) (\(Money.format(total)) \(request.currency)).",
                     "", "The attached file lists one registration code per seat. Give one code to each learner."]
        lines.append(publicURL.map { "A learner redeems a code at \($0)/redeem with their own email address; the file has each code's link." }
                     ?? "A learner redeems a code with their own email address.")
        lines += ["Each code works once.", ""]
        if let po = request.poNumber { lines.append("Your PO number: \(po)") }
        if let reference = request.customerReference { lines.append("Your reference: \(reference)") }
        return ComposedMailPayload(to: request.recipientEmail, subject: "Invoice \(invoiceID): \(seats) for \(request.courseID)",
                                   text: lines.joined(separator: "\n"),
                                   attachments: [.init(filename: "invoice-\(invoiceID)-codes.csv", content: csv)])
    }
}

/// A `mail` job whose message was composed when it was asked for (subject, text, text attachments): a replay
/// sends exactly the same.
public struct ComposedMailPayload: Codable, Sendable, Equatable {
    public struct Attachment: Codable, Sendable, Equatable {
        public var filename: String
        public var content: String
        public init(filename: String, content: String) {
            self.filename = filename
            self.content = content
        }
    }

    public var to: String
    public var subject: String
    public var text: String
    public var attachments: [Attachment]

    public init(to: String, subject: String, text: String, attachments: [Attachment] = []) {
        self.to = to
        self.subject = subject
        self.text = text
        self.attachments = attachments
    }
}

extension ComposedMailPayload: JobPayload {
    public var json: JSONValue {
        .fields(["to": .string(to), "subject": .string(subject), "text": .string(text),
                 "attachments": .array(attachments.map { .object(["filename": .string($0.filename), "content": .string($0.content)]) })])
    }
}
