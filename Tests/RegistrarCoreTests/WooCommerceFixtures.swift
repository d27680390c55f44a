import Foundation
import RegistrarCore
import TestSupport

/// The files in `fixtures/woocommerce/`, read as the raw bytes a webhook would carry.
enum WooFixtures {
    static let directory = URL(fileURLWithPath: fixturePath("woocommerce"))

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func order(_ name: String) throws -> WooOrder {
        guard case .order(let order) = try WooPayload.parse(topic: "order.updated", body: bytes(name)) else {
            throw WooParseError("\(name) is not an order")
        }
        return order
    }

    /// The catalog the fixtures assume (see fixtures/woocommerce/README.md).
    static let catalog = [CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+2026", mode: "audit")]
    static let store = StoreConfig(id: "main", webhookSecret: Secret("wh-secret"))
    static let rules = WooIntakeRules(store: store, catalog: catalog)
}

extension WooPayload {
    static func parse(topic: String, text: String) throws(WooParseError) -> WooPayload {
        try parse(topic: topic, body: Array(text.utf8))
    }
}

extension NewJob {
    func decoded<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: Data(payload.utf8)) }
    var payloadJSON: JSONValue? { JSONValue.parse(payload) }
}
