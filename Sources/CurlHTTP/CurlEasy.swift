import CCurl

/// One libcurl easy handle and the error buffer libcurl writes into.
///
/// Owned by the multi loop thread only. Handles are pooled: resetting keeps a
/// handle's DNS cache and TLS session IDs, which a fresh handle would lose.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    // libcurl keeps this pointer and fills it with a detailed message
    // ("Failed to connect to host port 1: Connection refused") that is far more
    // useful to an operator than curl_easy_strerror's generic text.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    func reset() {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
    }

    /// curl_easy_reset forgets the error buffer, so it is re-armed per request.
    func armErrorBuffer() throws(HTTPClientError) {
        errorBuffer[0] = 0
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
    }

    /// libcurl's detailed message for the last failure, or its generic text
    /// for `code` when the transfer failed before anything was written.
    func errorText(for code: CURLcode) -> String {
        let generic = String(cString: curl_easy_strerror(code))
        guard errorBuffer[0] != 0 else { return generic }
        return String(cString: errorBuffer)
    }

    // MARK: Options

    func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_long(handle, option, value), option)
    }

    /// libcurl copies string options (all but CURLOPT_POSTFIELDS, which we do
    /// not use), so the C string only has to live for the call.
    func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        let code = value.withCString { ccurl_easy_setopt_string(handle, option, $0) }
        try check(code, option)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_pointer(handle, option, pointer), option)
    }

    func set(_ option: CURLoption, offset: Int) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_off_t(handle, option, curl_off_t(offset)), option)
    }

    func set(_ option: CURLoption, list: UnsafeMutablePointer<curl_slist>?) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_slist(handle, option, list), option)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(HTTPClientError) {
        guard code == CURLE_OK else {
            throw .invalidRequest("curl rejected option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    // MARK: Info

    func info(_ info: CURLINFO) -> Int? {
        var value = 0
        return ccurl_easy_getinfo_long(handle, info, &value) == CURLE_OK ? value : nil
    }
}

extension CurlEasy {
    /// COPYPOSTFIELDS makes libcurl take its own copy, so the Swift array need
    /// not outlive this call. An empty body still needs a non-NULL pointer:
    /// NULL would make curl fall back to reading the body from stdin.
    func setCopiedPostFields(_ body: [UInt8]) throws(HTTPClientError) {
        if body.isEmpty {
            try set(CURLOPT_COPYPOSTFIELDS, "")
            return
        }
        let code = body.withUnsafeBytes { bytes in
            ccurl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        guard code == CURLE_OK else {
            throw .invalidRequest("curl rejected the request body: \(String(cString: curl_easy_strerror(code)))")
        }
    }
}
