import Foundation
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `ReportSource` and `RefundBook`: paid lines and refunds recorded once where orders are paid and refunded, and
/// gateway refunds recorded and applied exactly once, all or nothing.
@Suite struct ReportConformance {
    let course = "course-v1:edX+DemoX+2026"
    let rules = WooIntakeRules(store: StoreConfig(id: "main", webhookSecret: Secret("s")), catalog: [
        CatalogEntry(store: "main", productID: 93, courseID: "course-v1:edX+DemoX+2026", mode: "audit"),
    ])

    func wooOrder(_ store: any RegistrarStorage, status: String = "processing", modified: String, refunds: [WooRefundReference] = [])
        async throws {
        let order = WooOrder(id: 500, status: status, billingEmail: "wes@example.com", dateModifiedGMT: modified,
                             lineItems: [WooLineItem(id: 501, productID: 93, quantity: 1, subtotal: 49, total: Decimal(string: "39.20")!)],
                             refunds: refunds, currency: "USD", total: Decimal(string: "59.20")!)
        _ = try await store.recordWooCommerce(WooIntake.prepared(.order(order), rules: rules), delivery: NewDelivery(
            source: "woocommerce", channel: "main", body: Array("{}".utf8), verdict: "", httpStatus: 200))
    }

    func paidCheckout(_ store: any RegistrarStorage, _ reference: String, items: [OrderItem]) async throws {
        let total = items.reduce(Decimal(0)) { $0 + (Money.parse($1.unitPrice) ?? 0) * Decimal($1.quantity) }
        try await store.createOrder(NewOrder(reference: reference, email: "sam@example.com", currency: "USD", total: total,
                                             items: OrderFulfilment.plan(items), profileID: "p1"))
        _ = try await store.applyPayment(VerifiedCallback(profileID: "p1", referenceNumber: reference, transactionID: "T-\(reference)",
                                                          currency: "USD", decision: .accept, requestAmount: total, authAmount: total,
                                                          signedDateTime: Date()),
                                         delivery: NewDelivery(source: "cybersource", body: [], verdict: "accepted", httpStatus: 200))
    }

    @Test(arguments: Backends.all)
    func paidLinesAndStoreRefundsAreRecordedOnce(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await wooOrder(store, modified: "2026-12-03T09:00:00")
            try await wooOrder(store, modified: "2026-12-03T09:05:00")
            try await wooOrder(store, modified: "2026-12-03T09:10:00", refunds: [WooRefundReference(id: 731, total: "-10.00")])
            try await wooOrder(store, status: "refunded", modified: "2026-12-03T09:20:00",
                               refunds: [WooRefundReference(id: 732, total: "-29.20"), WooRefundReference(id: 731, total: "-10.00")])
            try await paidCheckout(store, "RG-1", items: [OrderItem(courseID: course, quantity: 1, unitPrice: "49.00"),
                                                          OrderItem(courseID: "course-v1:edX+Other+1", quantity: 3, unitPrice: "10.00")])
            let lines = try await store.saleLines(courseID: course)
            #expect(lines.count == 4, "the other course's line of RG-1 comes with its order, and the store order's other items")
            #expect(lines.first { $0.fulfilment == .other }?.gross == 20, "59.20 paid, 39.20 of it for the course")
            let woo = try #require(lines.first { $0.source == .woocommerce && $0.fulfilment != .other })
            #expect(woo.orderRef == "main:500" && woo.line == 501 && woo.gross == 49 && woo.discount == Decimal(string: "9.8")!
                    && woo.currency == "USD" && woo.fulfilment == .single && woo.enrollKey == WooKeys.enroll(store: "main", order: 500, line: 501))
            #expect(lines.filter { $0.orderRef == "RG-1" }.map(\.fulfilment) == [.single, .codes])
            #expect(lines.first { $0.orderRef == "RG-1" && $0.line == 1 }?.gross == 30)
            let refunds = try await store.refunds(courseID: course)
            #expect(refunds.map(\.reference) == ["731", "732"] && refunds.map(\.amount) == [10, Decimal(string: "29.2")!])
            #expect(try await store.saleLines(courseID: "course-v1:nobody+X+1").isEmpty)
            // The REST API says refund 732 gave 20.00 back for line 501: that part becomes the line's, once.
            try await store.attributeStoreRefund(store: "main", orderID: 500, refundID: 732, amounts: [501: 20])
            try await store.attributeStoreRefund(store: "main", orderID: 500, refundID: 732, amounts: [501: 20])
            try await wooOrder(store, status: "refunded", modified: "2026-12-03T09:30:00", refunds: [WooRefundReference(id: 732, total: "-29.20")])
            let attributed = try await store.refunds(courseID: course)
            #expect(attributed.map(\.reference) == ["731", "732", "732:501"] && attributed.map(\.line) == [nil, nil, 501]
                    && attributed.map(\.amount) == [10, Decimal(string: "9.2")!, 20], "\(attributed)")
            let payments = try await store.gatewayPayments()
            #expect(payments.payments.map(\.transactionID) == ["T-RG-1"] && payments.orderCurrencies["RG-1"] == "USD")
        }
    }

    @Test(arguments: Backends.all)
    func aLineSoldAsCodesIsOneSaleHoweverOftenItIsDelivered(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            for modified in ["2026-12-03T09:00:00", "2026-12-03T09:05:00", "2026-12-03T09:05:00"] {
                let order = WooOrder(id: 600, status: "processing", billingEmail: "buyer@example.com", dateModifiedGMT: modified,
                                     lineItems: [WooLineItem(id: 601, productID: 93, quantity: 3, subtotal: 147, total: 147)], currency: "USD")
                _ = try await store.recordWooCommerce(WooIntake.prepared(.order(order), rules: rules), delivery: NewDelivery(
                    source: "woocommerce", channel: "main", body: Array("{}".utf8), verdict: "", httpStatus: 200))
            }
            let lines = try await store.saleLines(courseID: course)
            #expect(lines.map(\.fulfilment) == [.codes] && lines.map(\.quantity) == [3] && lines.map(\.gross) == [147])
        }
    }

    @Test(arguments: Backends.all)
    func aGatewayRefundIsAppliedOnceAndUnenrollsAWholeSingleSeat(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await paidCheckout(store, "RG-2", items: [OrderItem(courseID: course, quantity: 1, unitPrice: "49.00"),
                                                          OrderItem(courseID: course, quantity: 2, unitPrice: "20.00")])
            let partial = try await store.recordRefund(GatewayRefund(orderRef: "RG-2", amount: 20, line: 0, reference: "G1"), actor: "op")
            #expect(!partial.alreadyRecorded && partial.jobs.isEmpty)
            let whole = try await store.recordRefund(GatewayRefund(orderRef: "RG-2", amount: 29, line: 0, reference: "G2"), actor: "op")
            #expect(whole.jobs.count == 1 && whole.jobs.allSatisfy(\.created))
            let again = try await store.recordRefund(GatewayRefund(orderRef: "RG-2", amount: 29, line: 0, reference: "G2"), actor: "op")
            #expect(again.alreadyRecorded && again.jobs.isEmpty)
            let codes = try await store.codes(CodeFilter(source: "order", sourceReference: "RG-2:1"))
            #expect(codes.count == 2 && codes.allSatisfy { $0.state == .active })
            let seats = try await store.recordRefund(GatewayRefund(orderRef: "RG-2", amount: 40, line: 1), actor: "op")
            #expect(seats.notes.contains { $0.contains("2 unredeemed codes voided") }, "\(seats.notes)")
            #expect(try await store.codes(CodeFilter(source: "order", sourceReference: "RG-2:1")).allSatisfy { $0.state == .void })
            #expect(try await store.refunds(courseID: course).map(\.amount) == [20, 29, 40])
            let unenroll = try #require(try await store.jobs(JobFilter(kind: .unenroll)).first)
            #expect(unenroll.dedupeKey == "order:RG-2:0:unenroll" && unenroll.payload.contains("sam@example.com"))
        }
    }

    @Test(arguments: Backends.all)
    func aRefusedRefundOfAReportKeepsNoneOfTheOthersFromBeingRecorded(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await paidCheckout(store, "RG-3", items: [OrderItem(courseID: course, quantity: 1, unitPrice: "49.00")])
            let outcomes = try await store.recordRefunds([
                GatewayRefund(orderRef: "RG-3", amount: 30, reference: "C1", origin: .reconciliation),
                GatewayRefund(orderRef: "RG-404", amount: 1, reference: "C2", origin: .reconciliation),
                GatewayRefund(orderRef: "RG-3", amount: 30, reference: "C3", origin: .reconciliation),
                GatewayRefund(orderRef: "RG-3", amount: 19, reference: "C4", origin: .reconciliation),
            ], actor: "fiona")
            #expect(outcomes.map { $0.refused == nil } == [true, false, false, true])
            #expect(outcomes[1].refused == "no order RG-404" && outcomes[2].refused?.contains("more than the 19.00 USD") == true)
            #expect(try await store.refunds(courseID: nil).map(\.reference) == ["C1", "C4"])
            #expect(outcomes[3].jobs.count == 1, "30 + 19 gives the seat back whole")
            let again = try await store.recordRefunds([GatewayRefund(orderRef: "RG-3", amount: 30, reference: "C1", origin: .reconciliation)],
                                                      actor: "fiona")
            #expect(again[0].alreadyRecorded && again[0].refused == nil)
        }
    }

    @Test(arguments: Backends.all)
    func aDuplicatePaymentIsRefundedBeforeAnySeat(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await paidCheckout(store, "RG-5", items: [OrderItem(courseID: course, quantity: 1, unitPrice: "49.00")])
            _ = try await store.applyPayment(VerifiedCallback(profileID: "p1", referenceNumber: "RG-5", transactionID: "T-again",
                                                              currency: "USD", decision: .accept, requestAmount: 49, authAmount: 49,
                                                              signedDateTime: Date()),
                                             delivery: NewDelivery(source: "cybersource", body: [], verdict: "accepted", httpStatus: 200))
            let duplicate = try await store.recordRefund(GatewayRefund(orderRef: "RG-5", amount: 49, reference: "C-dup"), actor: "op")
            #expect(duplicate.refund.surplus && duplicate.jobs.isEmpty, "the learner paid twice: giving one back leaves the seat")
            let seat = try await store.recordRefund(GatewayRefund(orderRef: "RG-5", amount: 49, reference: "C-seat"), actor: "op")
            #expect(!seat.refund.surplus && seat.jobs.count == 1)
            let payments = try await store.gatewayPayments().payments.filter { $0.orderRef == "RG-5" }
            #expect(payments.map(\.transactionID).sorted() == ["T-RG-5", "T-again"])
        }
    }

    @Test(arguments: Backends.all)
    func auditFactsNameTheJobsAndTheLearners(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            try await paidCheckout(store, "RG-4", items: [OrderItem(courseID: course, quantity: 1, unitPrice: "49.00")])
            try await store.cacheUsername("pam", email: "sam@example.com")
            let facts = try await store.auditFacts(courseID: course)
            #expect(facts.lines.count == 1)
            let job = try #require(facts.enrollJobs["order:RG-4:0:enroll"])
            #expect(job.state == "queued")
            #expect(try await store.emails(forUsernames: ["pam", "nobody"]) == ["pam": "sam@example.com"])
            let invoice = try await store.createInvoice(try InvoiceRules.check(InvoiceRequest(
                courseID: course, mode: nil, seats: 2, unitPrice: "100.00", currency: "usd", companyName: "Initech",
                contactEmail: "ap@initech.example", recipientEmail: "hr@initech.example")).get(), actor: "sally", publicURL: nil).0
            _ = try await store.recordTransaction(invoice: invoice.id, amount: 150, reference: nil, actor: "sally")
            let invoices = try await store.invoiceFacts(courseID: course)
            #expect(invoices.count == 1 && invoices[0].total == 200 && invoices[0].currency == "USD"
                    && invoices[0].transactions.map(\.amount) == [150])
            #expect(try await store.codeFacts(courseID: course).map(\.origin) == [.invoice, .invoice])
        }
    }
}
