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

/// A page of the orders list: the JSON array as sent, and the counts the store gave.
public struct WooOrderPage: Sendable {
    public var body: [UInt8]
    public var total: Int?
    public var totalPages: Int?
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

    /// One page of `GET /wp-json/wc/v3/orders` as catch-up walks it: modified after `modifiedAfter` (GMT,
    /// strictly after), oldest change first, with `X-WP-Total` and `X-WP-TotalPages`. The body stays bytes: each
    /// order is kept as the store sent it.
    public func orders(modifiedAfter: WooModifiedTime, page: Int, perPage: Int = WooCatchUpWalk.pageSize,
                       credentials: WooStoreCredentials) async -> CallResult<WooOrderPage> {
        let path = "/wp-json/wc/v3/orders?modified_after=\(modifiedAfter.queryText)&dates_are_gmt=true&orderby=modified"
            + "&order=asc&per_page=\(perPage)&page=\(page)"
        switch await get(path, endpoint: "orders.list", credentials: credentials) {
        case .failed(let outcome, let status):
            return .failed(outcome, status: status)
        case .ok(let response, let status):
            return .ok(WooOrderPage(body: response.body, total: response.header("X-WP-Total").flatMap { Int($0) },
                                    totalPages: response.header("X-WP-TotalPages").flatMap { Int($0) }), status: status)
        }
    }

    /// `GET /wp-json/wc/v3/webhooks`: every webhook of the store (pages of 100 followed, at most 10).
    public func webhooks(credentials: WooStoreCredentials) async -> CallResult<[JSONValue]> {
        var all: [JSONValue] = []
        var lastStatus = 200
        for page in 1...10 {
            switch await get("/wp-json/wc/v3/webhooks?per_page=100&page=\(page)", endpoint: "webhooks", credentials: credentials) {
            case .failed(let outcome, let status):
                return .failed(outcome, status: status)
            case .ok(let response, let status):
                guard let items = JSONValue.parse(response.bodyText)?.arrayValue else {
                    return .failed(.transient(message: "the store answered \(status) to the webhooks list with a body that is not a JSON array",
                                              retryAfter: nil), status: status)
                }
                all += items
                lastStatus = status
                let pages = response.header("X-WP-TotalPages").flatMap { Int($0) } ?? 1
                if items.count < 100 || page >= pages { return .ok(all, status: lastStatus) }
            }
        }
        return .ok(all, status: lastStatus)
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
