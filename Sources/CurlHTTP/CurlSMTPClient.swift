import CCurl
import Foundation

/// Where and how to send mail.
public struct SMTPSettings: Sendable {
    /// `smtps://host:465` (TLS from the start) or `smtp://host:587` (STARTTLS).
    public var url: String
    /// For `smtp://`: refuse to send unless the server takes STARTTLS.
    public var requireTLS: Bool
    public var username: String?
    public var password: String?
    public var timeout: Duration
    public var caBundlePath: String?

    public init(url: String, requireTLS: Bool = true, username: String? = nil, password: String? = nil,
                timeout: Duration = .seconds(30), caBundlePath: String? = nil) {
        self.url = url
        self.requireTLS = requireTLS
        self.username = username
        self.password = password
        self.timeout = timeout
        self.caBundlePath = caBundlePath
    }
}

/// How a send ended when it did not succeed: the server's or libcurl's words, and whether trying again later
/// can help (SMTP 4xx, connection errors) or not (5xx, refused credentials, no STARTTLS when it is required).
public struct SMTPSendError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var isTransient: Bool
    /// The server's last reply code, when there was one.
    public var replyCode: Int?
    public var description: String { message }
}

/// Sends one message per call over SMTP with libcurl: on a thread of its own (mail is rare; a blocking
/// `curl_easy_perform` there keeps the HTTP client's multi loop out of it).
public struct CurlSMTPClient: Sendable {
    public let settings: SMTPSettings

    public init(settings: SMTPSettings) {
        _ = CurlGlobal.ensureInitialized()
        self.settings = settings
    }

    /// - Parameters:
    ///   - from: the envelope sender (an address, no name).
    ///   - message: the whole RFC 5322 message, CRLF line ends.
    public func send(from: String, to recipients: [String], message: [UInt8]) async -> Result<Void, SMTPSendError> {
        let settings = self.settings
        return await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: Self.perform(settings, from: from, to: recipients, message: message))
            }.start()
        }
    }

    private final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    private static func perform(_ settings: SMTPSettings, from: String, to recipients: [String], message: [UInt8])
        -> Result<Void, SMTPSendError> {
        guard let handle = curl_easy_init() else {
            return .failure(SMTPSendError(message: "libcurl could not make a handle", isTransient: true, replyCode: nil))
        }
        defer { curl_easy_cleanup(handle) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        var list: UnsafeMutablePointer<curl_slist>?
        for recipient in recipients { list = curl_slist_append(list, "<\(recipient)>") }
        defer { curl_slist_free_all(list) }
        let upload = Upload(message)
        let box = Unmanaged.passRetained(upload)
        defer { box.release() }

        var setupFailed: CURLcode = CURLE_OK
        func set(_ option: CURLoption, _ value: Int) { if setupFailed == CURLE_OK { setupFailed = ccurl_easy_setopt_long(handle, option, value) } }
        func set(_ option: CURLoption, _ value: String) {
            if setupFailed == CURLE_OK { setupFailed = value.withCString { ccurl_easy_setopt_string(handle, option, $0) } }
        }
        setupFailed = ccurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        set(CURLOPT_URL, settings.url)
        set(CURLOPT_MAIL_FROM, "<\(from)>")
        if setupFailed == CURLE_OK { setupFailed = ccurl_easy_setopt_slist(handle, CURLOPT_MAIL_RCPT, list) }
        set(CURLOPT_UPLOAD, 1)
        set(CURLOPT_INFILESIZE_LARGE, message.count)
        set(CURLOPT_NOSIGNAL, 1)
        let timeout = Int(settings.timeout.components.seconds) * 1000 + Int(settings.timeout.components.attoseconds / 1_000_000_000_000_000)
        set(CURLOPT_TIMEOUT_MS, timeout)
        set(CURLOPT_CONNECTTIMEOUT_MS, min(timeout, 10_000))
        if settings.url.hasPrefix("smtp://") {
            set(CURLOPT_USE_SSL, Int(settings.requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        }
        if let username = settings.username { set(CURLOPT_USERNAME, username) }
        if let password = settings.password { set(CURLOPT_PASSWORD, password) }
        if let ca = settings.caBundlePath { set(CURLOPT_CAINFO, ca) }
        if setupFailed == CURLE_OK {
            setupFailed = ccurl_easy_setopt_read_function(handle) { buffer, size, count, userdata in
                guard let buffer, let userdata else { return 0 }
                let upload = Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue()
                let room = size * count
                let remaining = upload.bytes.count - upload.offset
                let n = min(room, remaining)
                guard n > 0 else { return 0 }
                upload.bytes.withUnsafeBufferPointer { source in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + upload.offset, byteCount: n)
                }
                upload.offset += n
                return n
            }
        }
        if setupFailed == CURLE_OK { setupFailed = ccurl_easy_setopt_pointer(handle, CURLOPT_READDATA, box.toOpaque()) }
        guard setupFailed == CURLE_OK else {
            return .failure(SMTPSendError(message: "libcurl refused an SMTP option: \(String(cString: curl_easy_strerror(setupFailed)))",
                                          isTransient: false, replyCode: nil))
        }

        let code = curl_easy_perform(handle)
        var reply = 0
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &reply)
        guard code != CURLE_OK else { return .success(()) }
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        let replyCode = reply > 0 ? reply : nil
        let transient: Bool
        switch code {
        case CURLE_LOGIN_DENIED, CURLE_USE_SSL_FAILED, CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_PEER_FAILED_VERIFICATION:
            transient = false
        default:
            // The server's reply decides when there is one: 4xx is "try later", 5xx is "never".
            transient = replyCode.map { (400..<500).contains($0) } ?? true
        }
        let withCode = replyCode.map { "SMTP \($0): \(detail)" } ?? detail
        return .failure(SMTPSendError(message: withCode, isTransient: transient, replyCode: replyCode))
    }
}
