import Foundation
import Hummingbird

/// The store side: WooCommerce REST v3 orders and refunds, read with the consumer key/secret.
extension SandboxState {
    /// HTTP Basic auth with the consumer key and secret (or `consumer_key`/`consumer_secret`
    /// query parameters, which WooCommerce also accepts over HTTPS).
    func authorizeWoo(_ request: IncomingRequest, listing: Bool) -> ReplyError? {
        var credentials = BasicAuth.parse(request.authorization)
        if credentials == nil, let key = request.queryValue("consumer_key"), let secret = request.queryValue("consumer_secret") {
            credentials = (key, secret)
        }
        guard let (key, secret) = credentials else {
            let message = listing ? "Sorry, you cannot list resources." : "Sorry, you cannot view this resource."
            return ReplyError(reply: Self.wooError(.unauthorized, "woocommerce_rest_cannot_view", message))
        }
        guard key == configuration.wooConsumerKey else {
            return ReplyError(reply: Self.wooError(.unauthorized, "woocommerce_rest_authentication_error", "Consumer key is invalid."))
        }
        guard secret == configuration.wooConsumerSecret else {
            return ReplyError(reply: Self.wooError(.unauthorized, "woocommerce_rest_authentication_error", "Consumer secret is invalid."))
        }
        return nil
    }

    /// What the proxy in front of a store that is down answers (no Retry-After, as most proxies send none).
    func wooDownReply() -> Reply? {
        guard store.wooSettings.down else { return nil }
        return Reply(status: .serviceUnavailable, body: .text("<html><body><h1>503 Service Unavailable</h1>The store is down.</body></html>", contentType: "text/html"))
    }

    func getOrder(_ idText: String) -> Reply {
        guard let id = Int(idText), let order = store.wooOrders[id] else {
            return Self.wooError(.notFound, "woocommerce_rest_invalid_id", "Invalid ID.")
        }
        return .ok(order)
    }

    /// `GET /wp-json/wc/v3/orders` as WooCommerce answers it: `modified_after` / `modified_before` /
    /// `after` / `before` (strictly, in the site's time zone unless `dates_are_gmt=true`), `status`,
    /// `orderby` (`date` by default, `modified`, `id`; ties broken by id), `order` (`desc` by default),
    /// `per_page` 1…100 (else 400), `page`; `X-WP-Total` and `X-WP-TotalPages`; `[]` past the end. With
    /// `ignore_modified_after` set (`POST /__sandbox/woocommerce/settings`) it behaves like an old store that
    /// does not know the parameter.
    func listOrders(_ request: IncomingRequest) -> Reply {
        let (perPage, page): (Int, Int)
        switch Self.paging(request) {
        case .success(let found): (perPage, page) = found
        case .failure(let error): return error.reply
        }
        let orderBy = request.queryValue("orderby") ?? "date"
        guard ["date", "modified", "id", "include", "title", "slug"].contains(orderBy) else {
            return Self.invalidParam("orderby", "orderby is not one of date, id, include, title, slug, modified.")
        }
        let direction = request.queryValue("order") ?? "desc"
        guard ["asc", "desc"].contains(direction) else {
            return Self.invalidParam("order", "order is not one of asc and desc.")
        }
        let datesAreGMT = ["true", "1"].contains(request.queryValue("dates_are_gmt") ?? "false")
        // Without dates_are_gmt the filters are read in the site's time zone.
        let siteOffset = datesAreGMT ? 0 : TimeInterval(configuration.wooSiteUTCOffsetMinutes * 60)
        var ids = Array(store.wooOrders.keys)
        var filters: [(param: String, dates: [Int: Date], after: Bool)] = [
            ("after", store.wooCreated, true), ("before", store.wooCreated, false), ("modified_before", store.wooModified, false),
        ]
        if !store.wooSettings.ignoreModifiedAfter { filters.append(("modified_after", store.wooModified, true)) }
        for filter in filters {
            guard let text = request.queryValue(filter.param) else { continue }
            guard let local = Timestamp.parse(text) else {
                return Self.invalidParam(filter.param, "Invalid date.")
            }
            let cutoff = local.addingTimeInterval(-siteOffset)
            ids = ids.filter { id in
                guard let date = filter.dates[id] else { return false }
                return filter.after ? date > cutoff : date < cutoff
            }
        }
        if let statuses = request.queryValue("status"), !statuses.isEmpty, statuses != "any" {
            let wanted = Set(statuses.split(separator: ",").map(String.init))
            ids = ids.filter { wanted.contains(store.wooOrders[$0]?["status"]?.stringValue ?? "") }
        }
        let key: [Int: Date] = orderBy == "modified" ? store.wooModified : store.wooCreated
        ids.sort { a, b in
            let before: Bool
            if orderBy == "id" {
                before = a < b
            } else {
                let (da, db) = (key[a] ?? .distantPast, key[b] ?? .distantPast)
                before = da == db ? a < b : da < db
            }
            return direction == "asc" ? before : !before
        }
        let total = ids.count
        let pages = (total + perPage - 1) / perPage
        let slice = ids.dropFirst((page - 1) * perPage).prefix(perPage).compactMap { store.wooOrders[$0] }
        return .json(
            .ok, .array(Array(slice)),
            headers: [.init("X-WP-Total")!: String(total), .init("X-WP-TotalPages")!: String(pages)]
        )
    }

    /// `GET /wp-json/wc/v3/webhooks`: the store's webhooks (`POST /__sandbox/woocommerce/webhooks` adds them).
    func listWebhooks(_ request: IncomingRequest) -> Reply {
        let (perPage, page): (Int, Int)
        switch Self.paging(request) {
        case .success(let found): (perPage, page) = found
        case .failure(let error): return error.reply
        }
        let hooks = store.wooWebhooks.keys.sorted().compactMap { store.wooWebhooks[$0] }
        let slice = hooks.dropFirst((page - 1) * perPage).prefix(perPage)
        return .json(
            .ok, .array(Array(slice)),
            headers: [.init("X-WP-Total")!: String(hooks.count), .init("X-WP-TotalPages")!: String((hooks.count + perPage - 1) / perPage)]
        )
    }

    func getRefund(orderIDText: String, refundIDText: String) -> Reply {
        guard let orderID = Int(orderIDText), store.wooOrders[orderID] != nil else {
            return Self.wooError(.notFound, "woocommerce_rest_invalid_order_id", "Invalid order ID.")
        }
        guard let refundID = Int(refundIDText), let refund = store.wooRefunds[orderID]?[refundID] else {
            return Self.wooError(.notFound, "woocommerce_rest_invalid_id", "Invalid ID.")
        }
        return .ok(refund)
    }

    func listRefunds(orderIDText: String) -> Reply {
        guard let orderID = Int(orderIDText), store.wooOrders[orderID] != nil else {
            return Self.wooError(.notFound, "woocommerce_rest_invalid_order_id", "Invalid order ID.")
        }
        let refunds = (store.wooRefunds[orderID] ?? [:]).sorted { $0.key > $1.key }.map(\.value)
        return .json(
            .ok, .array(refunds),
            headers: [.init("X-WP-Total")!: String(refunds.count), .init("X-WP-TotalPages")!: refunds.isEmpty ? "0" : "1"]
        )
    }

    /// `per_page` (1…100, default 10) and `page` (from 1), refused as WooCommerce refuses them.
    private static func paging(_ request: IncomingRequest) -> Result<(perPage: Int, page: Int), ReplyError> {
        var perPage = 10
        if let text = request.queryValue("per_page") {
            guard let value = Int(text), (1...100).contains(value) else {
                return .failure(ReplyError(reply: invalidParam("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")))
            }
            perPage = value
        }
        var page = 1
        if let text = request.queryValue("page") {
            guard let value = Int(text), value >= 1 else {
                return .failure(ReplyError(reply: invalidParam("page", "page must be greater than or equal to 1")))
            }
            page = value
        }
        return .success((perPage, page))
    }

    static func wooError(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Reply {
        .json(status, ["code": .string(code), "message": .string(message), "data": ["status": .int(status.code)]])
    }

    private static func invalidParam(_ name: String, _ message: String) -> Reply {
        .json(
            .badRequest,
            [
                "code": "rest_invalid_param",
                "message": .string("Invalid parameter(s): \(name)"),
                "data": ["status": 400, "params": [name: .string(message)], "details": [:]],
            ]
        )
    }
}

extension SandboxState.Store {
    /// Stores an order with its dates parsed once, so that listing thousands is not thousands of parses.
    mutating func setOrder(_ id: Int, _ order: SandboxJSON) {
        wooOrders[id] = order
        wooCreated[id] = order["date_created_gmt"]?.stringValue.flatMap(Timestamp.parse)
        wooModified[id] = order["date_modified_gmt"]?.stringValue.flatMap(Timestamp.parse)
    }

    /// Adds or replaces a webhook by `id`, filling what WooCommerce would.
    mutating func upsertWebhook(_ webhook: SandboxJSON) throws -> SandboxJSON {
        guard var fields = webhook.objectValue, let id = webhook["id"]?.intValue else {
            throw SandboxError.invalid("a webhook must be a JSON object with an integer id")
        }
        guard let status = fields["status"]?.stringValue ?? Optional("active"), ["active", "paused", "disabled"].contains(status) else {
            throw SandboxError.invalid("a webhook's status is active, paused or disabled")
        }
        fields["status"] = .string(status)
        if fields["name"] == nil { fields["name"] = .string("Webhook \(id)") }
        if fields["topic"] == nil { fields["topic"] = "order.updated" }
        if fields["resource"] == nil { fields["resource"] = "order" }
        if fields["event"] == nil { fields["event"] = "updated" }
        if fields["delivery_url"] == nil { fields["delivery_url"] = "" }
        if fields["hooks"] == nil { fields["hooks"] = ["woocommerce_update_order", "woocommerce_order_refunded"] }
        let now = Timestamp.formatWoo(Date())
        if fields["date_created_gmt"] == nil { fields["date_created_gmt"] = .string(now) }
        fields["date_modified_gmt"] = .string(now)
        let stored = SandboxJSON.object(fields)
        wooWebhooks[id] = stored
        return stored
    }
    /// Adds or replaces an order by `id`. `touch` stamps `date_modified_gmt` with now, so a
    /// `modified_after` catch-up sees orders changed while the sandbox runs.
    mutating func upsertOrder(_ order: SandboxJSON, touch: Bool) throws -> Bool {
        guard var fields = order.objectValue, let id = order["id"]?.intValue else {
            throw SandboxError.invalid("a WooCommerce order must be a JSON object with an integer id")
        }
        let now = Timestamp.formatWoo(Date())
        if fields["date_created_gmt"] == nil { fields["date_created_gmt"] = .string(now) }
        if touch || fields["date_modified_gmt"] == nil { fields["date_modified_gmt"] = .string(now) }
        if fields["refunds"] == nil { fields["refunds"] = [] }
        let isNew = wooOrders[id] == nil
        setOrder(id, .object(fields))
        return isNew
    }

    /// Stores a refund in the shape `GET …/refunds/<id>` returns (negative quantities and totals,
    /// `_refunded_item_id` as a string, whatever sign or type the caller used) and lists it in
    /// the order's `refunds[]` as WooCommerce does.
    mutating func addRefund(orderID: Int, refund: SandboxJSON, touch: Bool) throws -> SandboxJSON {
        guard var order = wooOrders[orderID]?.objectValue else {
            throw SandboxError.notFound("WooCommerce order \(orderID)")
        }
        guard var fields = refund.objectValue, let refundID = refund["id"]?.intValue else {
            throw SandboxError.invalid("a refund must be a JSON object with an integer id")
        }
        let orderLines = order["line_items"]?.arrayValue ?? []
        var lines: [SandboxJSON] = []
        var lineTotal = 0.0
        for (offset, line) in (fields["line_items"]?.arrayValue ?? []).enumerated() {
            guard var item = line.objectValue else { continue }
            var meta = item["meta_data"]?.arrayValue ?? []
            var refunded: String?
            for index in meta.indices {
                guard var entry = meta[index].objectValue, entry["key"]?.stringValue == "_refunded_item_id" else { continue }
                refunded = entry["value"]?.pythonDescription
                entry["value"] = .optional(refunded)
                meta[index] = .object(entry)
            }
            if refunded == nil, let plain = item["refunded_item_id"]?.intValue {
                refunded = String(plain)
                meta.append(["id": .int(refundID * 100 + offset), "key": "_refunded_item_id", "value": .string(String(plain))])
            }
            item.removeValue(forKey: "refunded_item_id")
            item["meta_data"] = .array(meta)
            let original = orderLines.first { $0["id"]?.intValue == refunded.flatMap(Int.init) }
            if item["id"] == nil { item["id"] = .int(refundID * 1000 + offset + 1) }
            for copied in ["name", "product_id", "variation_id", "sku"] where item[copied] == nil {
                if let value = original?[copied] {
                    item[copied] = value
                } else if copied == "variation_id" {
                    item[copied] = .int(0)
                }
            }
            item["quantity"] = .int(-abs(item["quantity"]?.intValue ?? 1))
            let total = abs(item["total"]?.doubleValue ?? original?["total"]?.doubleValue ?? 0)
            lineTotal += total
            item["total"] = .string(String(format: "-%.2f", total))
            if item["subtotal"] == nil { item["subtotal"] = item["total"] }
            lines.append(.object(item))
        }
        fields["line_items"] = .array(lines)
        let amount = abs(fields["amount"]?.doubleValue ?? lineTotal)
        fields["amount"] = .string(String(format: "%.2f", amount))
        if fields["reason"] == nil { fields["reason"] = "" }
        if fields["refunded_by"] == nil { fields["refunded_by"] = 1 }
        if fields["refunded_payment"] == nil { fields["refunded_payment"] = false }
        if fields["date_created_gmt"] == nil { fields["date_created_gmt"] = .string(Timestamp.formatWoo(Date())) }
        if fields["meta_data"] == nil { fields["meta_data"] = [] }
        let stored = SandboxJSON.object(fields)
        wooRefunds[orderID, default: [:]][refundID] = stored

        var summaries = order["refunds"]?.arrayValue ?? []
        if !summaries.contains(where: { $0["id"]?.intValue == refundID }) {
            summaries.insert(
                ["id": .int(refundID), "reason": fields["reason"] ?? "", "total": .string(String(format: "-%.2f", amount))],
                at: 0
            )
            order["refunds"] = .array(summaries)
        }
        if touch { order["date_modified_gmt"] = .string(Timestamp.formatWoo(Date())) }
        setOrder(orderID, .object(order))
        return stored
    }
}
