import CCurl

/// libcurl requires `curl_global_init` exactly once per process, before any
/// other call and while no other thread uses libcurl. A static `let` gives us
/// Swift's thread-safe lazy initialisation for that one-time call.
enum CurlGlobal {
    private static let initResult: CURLcode = ccurl_global_init()

    /// Nil once libcurl is ready; otherwise the reason it is not.
    static func ensureInitialized() -> String? {
        let code = initResult
        return code == CURLE_OK ? nil : "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))"
    }
}
