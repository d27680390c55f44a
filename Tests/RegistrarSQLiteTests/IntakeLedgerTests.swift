import Foundation
import GRDB
import RegistrarCore
@testable import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

/// The SQLite intake's own fast path: a new order's job ids are foreseen from `sqlite_sequence` and written with
/// the delivery's row; when the foresight is wrong the row must still list the right jobs.
@Suite struct SQLiteIntakeLedgerTests {
    @Test func aDeliveryListsItsJobsWhenTheirForeseenIdsWereWrong() async throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let rules = WooIntakeRules(store: StoreConfig(id: "main", webhookSecret: Secret("s")), catalog: [
            CatalogEntry(store: "main", productID: 87, courseID: "course-v1:edX+DemoX+Demo_Course"),
            CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+2026", mode: "audit"),
        ])
        func order(_ id: Int) -> WooIntake {
            .prepared(.order(WooOrder(id: id, status: "processing", billingEmail: "zoe@example.com",
                                      dateModifiedGMT: "2026-11-21T10:15:02",
                                      lineItems: [WooLineItem(id: 311, productID: 87), WooLineItem(id: 312, productID: 93)])),
                      rules: rules)
        }
        let delivery = NewDelivery(source: "woocommerce", channel: "main", body: Array("{}".utf8), verdict: "", httpStatus: 200)
        let first = try await store.recordWooCommerce(order(727), delivery: delivery)
        #expect(try await store.delivery(id: try #require(first.deliveryID))?.jobIDs == first.jobs.map(\.id))

        // sqlite_sequence behind the table's largest id: AUTOINCREMENT still goes past the largest, so the
        // foreseen ids are one short and the row must be corrected.
        try await store.write { db in try db.execute(sql: "UPDATE sqlite_sequence SET seq = seq - 1 WHERE name = 'jobs'") }
        let second = try await store.recordWooCommerce(order(728), delivery: delivery)
        #expect(second.jobs.count == 2 && second.jobs.allSatisfy(\.created))
        #expect(second.jobs.first?.id == first.jobs.last.map { $0.id + 1 })
        #expect(try await store.delivery(id: try #require(second.deliveryID))?.jobIDs == second.jobs.map(\.id))
    }
}
