import Foundation

extension WooPayload {
    /// Reads a webhook body by its `X-WC-Webhook-Topic`. Order, delete and action topics must be well-formed;
    /// other topics are not read at all, so a product or customer webhook pointed here costs nothing.
    public static func parse(topic: String, body: [UInt8]) throws(WooParseError) -> WooPayload {
        let topic = topic.trimmingSpaces
        switch topic {
        case "order.created", "order.updated", "order.restored":
            return .order(try WooOrderReader.order(try object(body, selecting: WooOrderReader.selection)))
        case "order.deleted":
            let fields = try object(body, selecting: .members(["id": .everything]))
            return .deletedOrder(id: try WooOrderReader.int(fields["id"], "id"))
        case _ where topic.hasPrefix("action."):
            let fields = try object(body)
            let name: String
            switch fields["action"] {
            case .string(let value) where !value.isEmpty: name = value
            case nil, .null?: name = String(topic.dropFirst("action.".count))
            case let other?: throw WooParseError("action is not a string: \(WooOrderReader.brief(other))")
            }
            return .action(name: name, arg: fields["arg"] ?? .null)
        default:
            return .other(topic: topic)
        }
    }

    private static func object(_ body: [UInt8], selecting selection: JSONSelection = .everything)
        throws(WooParseError) -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: body, selecting: selection)
        } catch {
            throw WooParseError("body is not JSON: \(error.message)")
        }
        guard case .object(let fields) = value else {
            throw WooParseError("body is not a JSON object: \(WooOrderReader.brief(value))")
        }
        return fields
    }
}

/// Field readers that name the path of what is wrong. Strict on what decides jobs (ids, status, line
/// products and quantities); lenient on descriptive fields, which only appear in notes. Paths are built only
/// when something is wrong: built eagerly, they cost more than reading the order.
enum WooOrderReader {
    /// Every field `order` and `line` read, and nothing else: the rest of an order (addresses, taxes, links) is
    /// checked as JSON but never built. Keep it in step with the readers below.
    static let selection = JSONSelection.members([
        "id": .everything, "status": .everything, "number": .everything, "date_modified_gmt": .everything, "currency": .everything, "total": .everything,
        "billing": .members(["email": .everything]),
        "line_items": .elements(.members([
            "id": .everything, "name": .everything, "product_id": .everything, "variation_id": .everything,
            "quantity": .everything, "sku": .everything, "subtotal": .everything, "total": .everything,
            "meta_data": .elements(.members(["key": .everything, "value": .everything])),
        ])),
        "refunds": .elements(.members(["id": .everything, "total": .everything])),
    ])

    static func order(_ fields: [String: JSONValue]) throws(WooParseError) -> WooOrder {
        let id = try int(fields["id"], "id")
        guard id > 0 else { throw WooParseError("id is not a positive integer: \(id)") }
        let status = try string(fields["status"], "status")
        let lineValues = try array(fields["line_items"], "line_items", required: true)
        var lines: [WooLineItem] = []
        for (index, value) in lineValues.enumerated() {
            lines.append(try line(value, "line_items[\(index)]"))
        }
        var refunds: [WooRefundReference] = []
        for (index, value) in try array(fields["refunds"], "refunds", required: false).enumerated() {
            let refund = try object(value, "refunds[\(index)]")
            refunds.append(WooRefundReference(id: try int(refund["id"], "refunds[\(index)].id"), total: text(refund["total"])))
        }
        // PHP encodes an empty associative array as `[]`, so an order without billing data may send `"billing": []`.
        let email = fields["billing"]?["email"].flatMap(text).map(normalizedEmail).flatMap { $0.isEmpty ? nil : $0 }
        let number = text(fields["number"]).flatMap { $0.isEmpty ? nil : $0 } ?? String(id)
        return WooOrder(id: id, number: number, status: status, billingEmail: email,
                        dateModifiedGMT: text(fields["date_modified_gmt"]).flatMap { $0.isEmpty ? nil : $0 },
                        lineItems: lines, refunds: refunds,
                        currency: text(fields["currency"]).map { $0.uppercased() }.flatMap { $0.isEmpty ? nil : $0 },
                        total: text(fields["total"]).flatMap(Money.parse))
    }

    static func line(_ value: JSONValue, _ path: @autoclosure () -> String) throws(WooParseError) -> WooLineItem {
        let fields = try object(value, path())
        var meta: [String: String] = [:]
        for entry in try array(fields["meta_data"], "\(path()).meta_data", required: false) {
            // Meta values can be arrays or objects (serialized PHP data); only text can name a course run.
            guard case .string(let key)? = entry["key"], let value = entry["value"].flatMap(text) else { continue }
            if meta[key] == nil { meta[key] = value }
        }
        let variation = fields["variation_id"] == nil || fields["variation_id"] == .null
            ? 0 : try int(fields["variation_id"], "\(path()).variation_id")
        return WooLineItem(
            id: try int(fields["id"], "\(path()).id"),
            name: text(fields["name"]),
            productID: try int(fields["product_id"], "\(path()).product_id"),
            variationID: variation,
            quantity: try int(fields["quantity"], "\(path()).quantity"),
            sku: text(fields["sku"]).flatMap { $0.isEmpty ? nil : $0 },
            meta: meta,
            // Amounts only feed the reports: an unreadable one is left out rather than refusing the order.
            subtotal: text(fields["subtotal"]).flatMap(Money.parse),
            total: text(fields["total"]).flatMap(Money.parse)
        )
    }

    /// An integer, or a string holding one: WooCommerce sometimes sends `"id": "727"` or `"quantity": "2"`.
    static func int(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(WooParseError) -> Int {
        switch value {
        case nil, .null?:
            throw WooParseError("\(path()) is missing")
        case .number(let number)? where number.rounded() == number && abs(number) <= 9_007_199_254_740_992:
            return Int(number)
        case .string(let string)? where Int(string.trimmingSpaces) != nil:
            return Int(string.trimmingSpaces)!
        case let other?:
            throw WooParseError("\(path()) is not an integer: \(brief(other))")
        }
    }

    static func string(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(WooParseError) -> String {
        switch value {
        case nil, .null?: throw WooParseError("\(path()) is missing")
        case .string(let string)?: return string
        case let other?: throw WooParseError("\(path()) is not a string: \(brief(other))")
        }
    }

    static func object(_ value: JSONValue, _ path: @autoclosure () -> String) throws(WooParseError) -> [String: JSONValue] {
        switch value {
        case .object(let fields): return fields
        case .array(let items) where items.isEmpty: return [:]
        default: throw WooParseError("\(path()) is not an object: \(brief(value))")
        }
    }

    /// A JSON array, or an object keyed by integers: PHP writes a list whose keys have holes (meta keyed by meta
    /// id, an array after `unset`) as an object.
    static func array(_ value: JSONValue?, _ path: @autoclosure () -> String, required: Bool) throws(WooParseError) -> [JSONValue] {
        switch value {
        case nil, .null?:
            if required { throw WooParseError("\(path()) is missing") }
            return []
        case .array(let items)?: return items
        case .object(let fields)? where fields.keys.allSatisfy({ Int($0) != nil }):
            // Ties ("1" and "01") are broken by the key's text so the order never depends on hashing.
            return fields.map { (Int($0.key)!, $0.key, $0.value) }
                .sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
        case let other?: throw WooParseError("\(path()) is not an array: \(brief(other))")
        }
    }

    /// Strings as sent; numbers as text, since a SKU or meta value of digits may arrive either way.
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let string)?: string
        case .number?: value?.stringValue
        default: nil
        }
    }

    static func brief(_ value: JSONValue) -> String {
        let rendered: String
        switch value {
        case .null: rendered = "null"
        case .bool(let flag): rendered = String(flag)
        case .number: rendered = value.stringValue ?? "a number"
        case .string(let string): rendered = "\"\(string)\""
        case .array(let items): rendered = "an array of \(items.count)"
        case .object: rendered = "an object"
        }
        return rendered.count > 60 ? String(rendered.prefix(57)) + "…" : rendered
    }
}
