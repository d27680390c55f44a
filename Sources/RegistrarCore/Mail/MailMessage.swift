import Foundation

/// One email as Registrar sends it: a UTF-8 text part and any CSV attachments, written as RFC 5322 / MIME text
/// with CRLF line ends, ready for SMTP's DATA. Pure: the same message and date give the same bytes.
public struct MailMessage: Sendable, Equatable {
    public struct Attachment: Sendable, Equatable {
        public var filename: String
        public var contentType: String
        public var data: [UInt8]

        public init(filename: String, contentType: String = "text/csv; charset=utf-8", data: [UInt8]) {
            self.filename = filename
            self.contentType = contentType
            self.data = data
        }
    }

    /// `Registrar <no-reply@example.com>` or a bare address.
    public var from: String
    public var to: String
    public var replyTo: String?
    public var subject: String
    public var text: String
    public var attachments: [Attachment]
    /// Stable per job, so a mail client can drop a copy sent again after an ambiguous timeout.
    public var messageID: String

    public init(from: String, to: String, replyTo: String? = nil, subject: String, text: String, attachments: [Attachment] = [],
                messageID: String) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.attachments = attachments
        self.messageID = messageID
    }

    /// Why a message cannot be written: a header value that would break out of its line.
    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// The address inside `from` ("a@b" of "Name <a@b>"), for SMTP's MAIL FROM.
    public var fromAddress: String { Self.address(from) }

    public static func address(_ mailbox: String) -> String {
        if let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close {
            return String(mailbox[mailbox.index(after: open)..<close])
        }
        return mailbox.trimmingCharacters(in: .whitespaces)
    }

    /// The whole message, headers and body.
    public func rendered(date: Date) throws(Refusal) -> [UInt8] {
        for (name, value) in [("From", from), ("To", to), ("Reply-To", replyTo ?? ""), ("Subject", subject), ("Message-ID", messageID)] {
            if value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) {
                throw Refusal(message: "the \(name) header holds a line break")
            }
        }
        var headers = ["From: \(Self.encodedMailbox(from))", "To: \(Self.encodedMailbox(to))"]
        if let replyTo { headers.append("Reply-To: \(Self.encodedMailbox(replyTo))") }
        headers += ["Subject: \(Self.encodedWord(subject))", "Date: \(Self.rfc5322Date(date))", "Message-ID: <\(messageID)>",
                    "MIME-Version: 1.0"]
        var lines: [String]
        if attachments.isEmpty {
            lines = headers + ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", ""]
                + Self.base64Lines(Array(text.utf8))
        } else {
            // Derived from the message ID: the same message always has the same boundary, and no text part
            // (base64) or attachment (base64) can contain it.
            let boundary = "=_registrar_" + String(messageID.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
                .prefix(40).map(Character.init))
            lines = headers + ["Content-Type: multipart/mixed; boundary=\"\(boundary)\"", "",
                               "This is a message in MIME format.", "--\(boundary)",
                               "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", ""]
                + Self.base64Lines(Array(text.utf8))
            for attachment in attachments {
                let name = attachment.filename.replacingOccurrences(of: "\"", with: "")
                lines += ["--\(boundary)", "Content-Type: \(attachment.contentType); name=\"\(name)\"",
                          "Content-Disposition: attachment; filename=\"\(name)\"", "Content-Transfer-Encoding: base64", ""]
                    + Self.base64Lines(attachment.data)
            }
            lines.append("--\(boundary)--")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    static func base64Lines(_ data: [UInt8]) -> [String] {
        let encoded = Data(data).base64EncodedString()
        guard !encoded.isEmpty else { return [""] }
        var lines: [String] = []
        var rest = Substring(encoded)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(76)))
            rest = rest.dropFirst(76)
        }
        return lines
    }

    /// RFC 2047: non-ASCII text as `=?utf-8?B?…?=` words of at most 45 bytes each (75 characters encoded).
    static func encodedWord(_ text: String) -> String {
        guard !text.allSatisfy({ $0.isASCII }) else { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Name <address>` with a non-ASCII name encoded; a bare address as is.
    static func encodedMailbox(_ mailbox: String) -> String {
        guard let open = mailbox.lastIndex(of: "<") else { return mailbox }
        let name = mailbox[..<open].trimmingCharacters(in: .whitespaces)
        let address = mailbox[open...]
        guard !name.isEmpty else { return String(address) }
        let shownName = name.allSatisfy({ $0.isASCII }) ? "\"\(name.replacingOccurrences(of: "\"", with: ""))\"" : encodedWord(name)
        return "\(shownName) \(address)"
    }

    /// "Thu, 03 Dec 2026 10:00:00 +0000".
    static func rfc5322Date(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (days, inDay) = CivilCalendar.floorDivision(seconds, by: 86_400)
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) \(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60)) +0000"
    }
}
