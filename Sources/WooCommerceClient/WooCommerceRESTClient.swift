import CurlHTTP
import Foundation
import RegistrarCore

/// What it takes to call one store's REST API: its URL and a consumer key pair (read access is enough).
public struct WooStoreCredentials: Sendable {
    public var url: String
    public var consumerKey: Secret
    public var consumerSecret: Secret

    /// The credentials of a configured store, or the names of the keys that are missing.
    public static func from(_ store: StoreConfig) -> Result<WooStoreCredentials, MissingKeys> {
        var missing: [String] = []
        if store.url == nil { missing.append("url") }
        if store.consumerKey == nil { missing.append("consumer_key") }
        if store.consumerSecret == nil { missing.append("consumer_secret") }
        guard let url = store.url, let key = store.consumerKey, let secret = store.consumerSecret else {
            return .failure(MissingKeys(store: store.id, keys: missing))
        }
        return .success(WooStoreCredentials(url: url, consumerKey: key, consumerSecret: secret))
    }

    public struct MissingKeys: Error, Sendable {
        public var store: String
        public var keys: [String]
        public var description: String {
            keys.map { "woocommerce.stores.\(store).\($0)" }.joined(separator: ", ") + " not set"
        }
    }
}

/// The WooCommerce REST v3 reads Registrar needs, over libcurl with HTTP Basic auth.
public struct WooCommerceRESTClient: Sendable {
    private let http: CurlHTTPClient
    private let observe: @Sendable (_ endpoint: String, _ status: Int?) -> Void

    public init(http: CurlHTTPClient, observe: @escaping @Sendable (_ endpoint: String, _ status: Int?) -> Void = { _, _ in }) {
        self.http = http
        self.observe = observe
    }

    /// `GET /wp-json/wc/v3/orders/<order>/refunds/<refund>`: which lines a refund covers.
    public func refund(orderID: Int, refundID: Int, credentials: WooStoreCredentials) async -> CallResult<JSONValue> {
        await getJSON("/wp-json/wc/v3/orders/\(orderID)/refunds/\(refundID)", endpoint: "orders.refund", credentials: credentials)
    }

    /// `GET /wp-json/wc/v3/orders/<order>/refunds`: every refund of an order.
    public func refunds(orderID: Int, credentials: WooStoreCredentials) async -> CallResult<[JSONValue]> {
        switch await getJSON("/wp-json/wc/v3/orders/\(orderID)/refunds?per_page=100", endpoint: "orders.refunds",
                             credentials: credentials) {
        case .ok(let json, let status): .ok(json.arrayValue ?? [], status: status)
        case .failed(let outcome, let status): .failed(outcome, status: status)
        }
    }

    /// `GET /wp-json/wc/v3/orders/<order>`, as raw bytes for the same parser the webhooks use.
    public func order(orderID: Int, credentials: WooStoreCredentials) async -> CallResult<[UInt8]> {
        switch await get("/wp-json/wc/v3/orders/\(orderID)", endpoint: "orders", credentials: credentials) {
        case .ok(let response, let status): .ok(response.body, status: status)
        case .failed(let outcome, let status): .failed(outcome, status: status)
        }
    }

    private func getJSON(_ path: String, endpoint: String, credentials: WooStoreCredentials) async -> CallResult<JSONValue> {
        switch await get(path, endpoint: endpoint, credentials: credentials) {
        case .failed(let outcome, let status):
            return .failed(outcome, status: status)
        case .ok(let response, let status):
            guard let json = JSONValue.parse(response.bodyText) else {
                return .failed(.transient(message: "the store answered \(status) with a body that is not JSON", retryAfter: nil),
                               status: status)
            }
            return .ok(json, status: status)
        }
    }

    private func get(_ path: String, endpoint: String, credentials: WooStoreCredentials) async -> CallResult<HTTPResponse> {
        let token = Data("\(credentials.consumerKey.value):\(credentials.consumerSecret.value)".utf8).base64EncodedString()
        let request = HTTPRequest(method: "GET", url: credentials.url + path,
                                  headers: ["Authorization": "Basic \(token)", "Accept": "application/json"])
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch let error as HTTPClientError {
            observe(endpoint, nil)
            return .failed(.transportFailure("GET \(path): \(error)"), status: nil)
        } catch {
            observe(endpoint, nil)
            return .failed(.transient(message: "GET \(path) interrupted: \(error)", retryAfter: nil), status: nil)
        }
        observe(endpoint, response.status)
        guard response.isSuccess else {
            var outcome = CallOutcome.classify(status: response.status, body: response.bodyText, retryAfter: response.retryAfter)
            // A refused key pair will not fix itself: say which setting to check.
            if case .unauthorized(let message) = outcome {
                outcome = .permanent(message: "the store refused the consumer key (\(message)): check consumer_key and consumer_secret")
            }
            return .failed(outcome, status: response.status)
        }
        return .ok(response, status: response.status)
    }
}
