/// A store's webhook that delivers to this Registrar, as `GET /wp-json/wc/v3/webhooks` lists it.
public struct WooWebhookStatus: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    /// `active`, `paused` or `disabled` (after the 7th failed delivery in a row, until an admin re-enables it).
    public var status: String
    public var topic: String
    public var deliveryURL: String

    public init(id: Int, name: String, status: String, topic: String, deliveryURL: String) {
        self.id = id
        self.name = name
        self.status = status
        self.topic = topic
        self.deliveryURL = deliveryURL
    }

    public var isActive: Bool { status == "active" }

    enum CodingKeys: String, CodingKey {
        case id, name, status, topic
        case deliveryURL = "delivery_url"
    }
}

/// Whether a store's webhooks still deliver here. WooCommerce disables a webhook after seven failures in a row
/// and tells nobody; every later order then reaches Registrar only through catch-up.
public struct WooWebhookHealth: Codable, Sendable, Equatable {
    /// The store's webhooks whose delivery URL is this store's intake path.
    public var webhooks: [WooWebhookStatus]
    /// What an operator must fix, one sentence each; empty when all is well.
    public var problems: [String]

    public init(webhooks: [WooWebhookStatus], problems: [String]) {
        self.webhooks = webhooks
        self.problems = problems
    }

    /// Reads the webhooks list. A webhook points here when its delivery URL's path is
    /// `/webhooks/woocommerce/<store>`, whatever host the proxy in front of Registrar has.
    public static func assess(_ listed: [JSONValue], store: String) -> WooWebhookHealth {
        var mine: [WooWebhookStatus] = []
        for item in listed {
            guard let url = item["delivery_url"]?.stringValue, pointsHere(url, store: store) else { continue }
            let id = item["id"]?.stringValue.flatMap { Int($0) } ?? 0
            mine.append(WooWebhookStatus(id: id, name: item["name"]?.stringValue ?? "", status: item["status"]?.stringValue ?? "unknown",
                                         topic: item["topic"]?.stringValue ?? "", deliveryURL: url))
        }
        mine.sort { $0.id < $1.id }
        var problems: [String] = []
        if mine.isEmpty {
            problems.append("no webhook of store \"\(store)\" delivers to /webhooks/woocommerce/\(store): its orders reach Registrar only through catch-up; add one under WooCommerce → Settings → Advanced → Webhooks (topic \"Order updated\", this store's secret)")
        }
        for webhook in mine where !webhook.isActive {
            let label = webhook.name.isEmpty ? "webhook \(webhook.id)" : "webhook \(webhook.id) \"\(webhook.name)\""
            problems.append("\(label) (\(webhook.topic)) of store \"\(store)\" is \(webhook.status): WooCommerce delivers nothing through it; re-enable it under WooCommerce → Settings → Advanced → Webhooks (Status: Active) — catch-up recovers what it missed")
        }
        return WooWebhookHealth(webhooks: mine, problems: problems)
    }

    static func pointsHere(_ url: String, store: String) -> Bool {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        guard let slash = rest.firstIndex(of: "/") else { return false }
        var path = rest[slash...]
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return path.hasSuffix("/webhooks/woocommerce/\(store)")
    }
}
