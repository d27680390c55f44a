import CCurl

/// One request in flight on the multi loop thread: the handle it runs on,
/// what has been received so far, and who to tell when it ends.
///
/// Lives only on the loop thread. libcurl calls back into it with a raw
/// pointer; the loop's table of active transfers keeps it alive for as long as
/// its handle is attached to the multi handle, which is the only time libcurl
/// can call back.
final class CurlTransfer {
    let id: UInt64
    let easy: CurlEasy
    let continuation: CheckedContinuation<HTTPResponse, any Error>
    /// "GET http://host/path": enough for an operator to place an error
    /// without copying a query string that may hold credentials into logs.
    let summary: String

    private var requestHeaderList: UnsafeMutablePointer<curl_slist>?
    private var responseHeaders = HTTPHeaders()
    private var responseBody: [UInt8] = []

    init(id: UInt64, easy: CurlEasy, request: HTTPRequest, continuation: CheckedContinuation<HTTPResponse, any Error>) {
        self.id = id
        self.easy = easy
        self.continuation = continuation
        let path = request.url.prefix { $0 != "?" && $0 != "#" }
        summary = "\(request.method) \(path)"
    }

    deinit {
        curl_slist_free_all(requestHeaderList)
    }

    func configure(_ request: HTTPRequest, _ configuration: HTTPClientConfiguration) throws(HTTPClientError) {
        try easy.armErrorBuffer()
        // Without NOSIGNAL libcurl uses SIGALRM for DNS timeouts, which is not
        // safe in a multi-threaded process.
        try easy.set(CURLOPT_NOSIGNAL, 1)
        try easy.set(CURLOPT_URL, request.url)
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        // HTTP/1.1 keeps one request per connection, so reuse and the
        // connection cap behave the same for http and https endpoints.
        try easy.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        // A redirect from an API is a misconfiguration to surface, and
        // following it could replay a POST or leak an Authorization header.
        try easy.set(CURLOPT_FOLLOWLOCATION, 0)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        try easy.set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout ?? configuration.totalTimeout))
        try easy.set(CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0)
        try easy.set(CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0)
        if let caBundlePath = configuration.caBundlePath {
            try easy.set(CURLOPT_CAINFO, caBundlePath)
        }
        try easy.set(CURLOPT_USERAGENT, configuration.userAgent)
        // Idle pooled connections would otherwise be silently dropped by NAT
        // and firewalls, and we'd only learn on the next request.
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        try installCallbacks()
        let sendsBody = try configureMethodAndBody(request)
        try configureHeaders(request.headers, sendsBody: sendsBody)
    }

    /// Returns whether a body is sent, so header setup knows to suppress
    /// curl's default form Content-Type.
    private func configureMethodAndBody(_ request: HTTPRequest) throws(HTTPClientError) -> Bool {
        let method = request.method
        if method == "HEAD" {
            guard request.body == nil else { throw .invalidRequest("HEAD request with a body") }
            try easy.set(CURLOPT_NOBODY, 1)
            return false
        }
        // POST always carries a body, even an empty one, so curl sends
        // Content-Length: 0 rather than waiting to read one from stdin.
        if let body = request.body ?? (method == "POST" ? [] : nil) {
            try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: body.count)
            try easy.setCopiedPostFields(body)
            if method != "POST" {
                try easy.set(CURLOPT_CUSTOMREQUEST, method)
            }
            return true
        }
        if method == "GET" {
            try easy.set(CURLOPT_HTTPGET, 1)
        } else {
            try easy.set(CURLOPT_CUSTOMREQUEST, method)
        }
        return false
    }

    private func configureHeaders(_ headers: HTTPHeaders, sendsBody: Bool) throws(HTTPClientError) {
        var lines: [String] = headers.map { field in
            // "Name;" is curl's spelling of a header with an empty value;
            // "Name:" would instead remove the header.
            field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)"
        }
        // curl waits up to a second for "100 Continue" before sending larger
        // bodies; the APIs we call never need it.
        if !headers.contains("Expect") {
            lines.append("Expect:")
        }
        // Otherwise curl labels every body application/x-www-form-urlencoded,
        // which would be a lie for JSON the caller forgot to label.
        if sendsBody, !headers.contains("Content-Type") {
            lines.append("Content-Type:")
        }
        for line in lines {
            // On failure curl_slist_append returns NULL and leaves the list
            // intact, so keep the old head for deinit to free.
            guard let head = curl_slist_append(requestHeaderList, line) else {
                throw .invalidRequest("out of memory building request headers")
            }
            requestHeaderList = head
        }
        try easy.set(CURLOPT_HTTPHEADER, list: requestHeaderList)
    }

    private func installCallbacks() throws(HTTPClientError) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        try easy.set(CURLOPT_WRITEDATA, pointer: me)
        try easy.set(CURLOPT_HEADERDATA, pointer: me)
        let writeCode = ccurl_easy_setopt_write_function(easy.handle) { data, size, count, context in
            let length = size * count
            guard let context, let data, length > 0 else { return length }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
            return length
        }
        let headerCode = ccurl_easy_setopt_header_function(easy.handle) { data, size, count, context in
            let length = size * count
            guard let context, let data, length > 0 else { return length }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
            return length
        }
        guard writeCode == CURLE_OK, headerCode == CURLE_OK else {
            throw .invalidRequest("curl rejected the response callbacks")
        }
    }

    /// curl hands over every header line of every response it reads,
    /// including interim 1xx ones; only the last response's headers count.
    private func receiveHeaderLine(_ raw: UnsafeRawBufferPointer) {
        var end = raw.count
        while end > 0, raw[end - 1] == UInt8(ascii: "\n") || raw[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<end])
        guard !bytes.isEmpty else { return }
        if bytes.starts(with: "HTTP/".utf8) {
            responseHeaders = HTTPHeaders()
            return
        }
        if bytes[0] == UInt8(ascii: " ") || bytes[0] == UInt8(ascii: "\t") {
            // Obsolete line folding: the line continues the previous value.
            guard var last = responseHeaders.fields.last else { return }
            last.value += " " + Self.trimmed(bytes)
            responseHeaders.replaceLast(with: last)
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = Self.trimmed(UnsafeRawBufferPointer(rebasing: bytes[..<colon]))
        let value = Self.trimmed(UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)...]))
        responseHeaders.add(name: name, value: value)
    }

    /// The outcome once libcurl reports the transfer done.
    func outcome(_ code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        guard code == CURLE_OK else {
            return .failure(HTTPClientError(curlCode: code, message: "\(summary): \(easy.errorText(for: code))"))
        }
        let status = easy.info(CURLINFO_RESPONSE_CODE) ?? 0
        return .success(HTTPResponse(status: status, headers: responseHeaders, body: responseBody))
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> String {
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// libcurl reads 0 as "no timeout", so a zero or negative budget is
    /// clamped to the smallest real one instead of silently meaning forever.
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return seconds > 0 ? Int.max : 1 }
        return max(1, Int(ms.partialValue) + Int(attoseconds / 1_000_000_000_000_000))
    }
}
