import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarStore

/// `mail`: one message over SMTP. The payload holds what the message says (a buyer's codes), so a replay sends
/// the same; the `Message-ID` is the job's, so a copy sent again after an ambiguous timeout can be dropped by
/// the mail client. SMTP 4xx and connection errors retry; 5xx, refused credentials or a server without
/// STARTTLS when it is required fail the job with the server's words.
public struct MailHandler: JobHandler {
    let mail: MailConfig
    let publicURL: String?
    let client: CurlSMTPClient?
    let clock: any WallClock

    public init(mail: MailConfig, publicURL: String?, timeout: Duration = .seconds(30), caBundlePath: String? = nil,
                clock: any WallClock = SystemWallClock()) {
        self.mail = mail
        self.publicURL = publicURL
        self.clock = clock
        client = mail.smtpURL.map {
            CurlSMTPClient(settings: SMTPSettings(url: $0, requireTLS: mail.smtpTLS == .required, username: mail.username,
                                                  password: mail.password?.value, timeout: timeout, caBundlePath: caBundlePath))
        }
    }

    public func handle(_ job: ClaimedJob) async -> HandlerOutcome {
        guard let client else {
            return .permanent(reason: "mail is not configured (mail.smtp_url): set it and replay this job; the codes are in `registrar codes list`")
        }
        // A message composed when it was asked for (an invoice's), or a buyer's codes composed from the codes.
        let to: String, subject: String, text: String
        var attachments: [MailMessage.Attachment] = []
        if let composed = try? job.job.decodePayload(ComposedMailPayload.self) {
            (to, subject, text) = (composed.to, composed.subject, composed.text)
            attachments = composed.attachments.map { MailMessage.Attachment(filename: $0.filename, data: Array($0.content.utf8)) }
        } else {
            let payload: CodesMailPayload
            do { payload = try job.job.decodePayload(CodesMailPayload.self) } catch {
                return .permanent(reason: "mail payload unreadable: \(error)")
            }
            to = payload.to
            (subject, text) = payload.message(publicURL: publicURL)
        }
        let message = MailMessage(from: mail.from, to: to, replyTo: mail.replyTo, subject: subject, text: text,
                                  attachments: attachments, messageID: Self.messageID(jobID: job.job.id, publicURL: publicURL))
        let bytes: [UInt8]
        do { bytes = try message.rendered(date: clock.now()) } catch {
            return .permanent(reason: "the message cannot be written: \(error.message)")
        }
        switch await client.send(from: message.fromAddress, to: [to], message: bytes) {
        case .success:
            return .success(detail: "sent to \(to): \(subject)")
        case .failure(let error):
            let reason = "sending to \(to): \(error.message)"
            return error.isTransient ? .transient(reason: reason) : .permanent(reason: reason)
        }
    }

    /// `registrar-job-42@registrar.example.com`: the same for every attempt of the job.
    static func messageID(jobID: Int64, publicURL: String?) -> String {
        var host = "registrar.invalid"
        if let url = publicURL, let start = url.range(of: "://") {
            host = String(url[start.upperBound...].prefix { $0 != "/" && $0 != ":" })
        }
        return "registrar-job-\(jobID)@\(host)"
    }
}
