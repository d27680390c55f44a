import CCurl

extension HTTPClientError {
    /// Sorts libcurl's many result codes into the few cases callers act on:
    /// retry after a timeout or connection failure, give up on a bad request.
    init(curlCode code: CURLcode, message: String) {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            self = .timeout(message)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_NOT_BUILT_IN:
            self = .invalidRequest(message)
        default:
            // Resolve/connect failures, resets, empty replies, send/receive
            // errors and TLS failures all mean the exchange did not complete.
            self = .connection(message)
        }
    }
}
