import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarStore
import Testing

/// The console's pages in process: the role each page needs, escaping of what the database holds, search and
/// paging, a scoped token's limits, and its CSV links (the browser test drives the rest in Chromium).
@Suite struct ConsoleTests {
    /// Signs in and returns the cookie and the session's CSRF token.
    func signIn(_ client: any TestClientProtocol, _ token: String) async throws -> (cookie: String, csrf: String) {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        let response = try await client.execute(uri: "/console/signin", method: .post, headers: headers,
                                                body: ByteBuffer(string: FormEncoding.encode([("token", token)])))
        #expect(response.status == .seeOther)
        let cookie = String(try #require(response.headers[.setCookie]).split(separator: ";")[0])
        let page = try await get(client, "/console", cookie).text
        let start = try #require(page.range(of: "name=\"csrf\" value=\"")).upperBound
        return (cookie, String(page[start...].prefix { $0 != "\"" }))
    }

    func get(_ client: any TestClientProtocol, _ uri: String, _ cookie: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.cookie] = cookie
        return try await client.execute(uri: uri, method: .get, headers: headers)
    }

    @Test func eachRoleSeesItsPagesAndNothingElse() async throws {
        let harness = try ServerHarness()
        let ops = try await harness.store.createToken(name: "ops", role: .ops)
        let sales = try await harness.store.createToken(name: "sales", role: .salesAdmin)
        try await harness.test { client in
            let response = try await client.execute(uri: "/console/jobs", method: .get)
            #expect(response.status == .seeOther && response.headers[.location] == "/console/signin", "signed out: to sign-in")
            let opsSession = try await signIn(client, ops)
            for page in ["/console", "/console/failures", "/console/jobs", "/console/deliveries", "/console/orders", "/console/codes",
                         "/console/invoices", "/console/contracts", "/console/audit"] {
                let answer = try await get(client, page, opsSession.cookie)
                #expect(answer.status == .ok, "\(page)")
                #expect(answer.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            }
            let salesSession = try await signIn(client, sales)
            #expect(try await get(client, "/console/jobs", salesSession.cookie).status == .forbidden)
            #expect(try await get(client, "/console/contracts", salesSession.cookie).status == .ok)
            #expect(!(try await get(client, "/console", salesSession.cookie).text.contains("href=\"/console/jobs\"")), "not in its navigation")
            let css = try await client.execute(uri: "/console/style.css", method: .get)
            #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8")
        }
    }

    @Test func whatTheDatabaseHoldsIsEscapedAndSearchPagesByKeyset() async throws {
        let harness = try ServerHarness()
        let ops = try await harness.store.createToken(name: "ops", role: .ops)
        var jobs: [NewJob] = []
        for index in 0..<60 {
            jobs.append(try NewJob(kind: .enroll, dedupeKey: "test:\(index)", serialKey: SerialKey.enrollment(email: "ann@example.com", courseID: "course-v1:A+B+C"),
                                   payload: EnrollPayload(email: "ann@example.com", courseID: "course-v1:A+B+C", mode: nil, orderReference: nil), source: "test"))
        }
        _ = try await harness.store.enqueue(jobs)
        let claimed = try #require(try await harness.store.claim(owner: "w", limit: 1).first)
        try await harness.store.finish(claimed, outcome: .permanent(reason: "<script>alert(1)</script> refused"))
        try await harness.test { client in
            let session = try await signIn(client, ops)
            let inbox = try await get(client, "/console/failures", session.cookie).text
            #expect(!inbox.contains("<script>") && inbox.contains("&lt;script&gt;"))
            let first = try await get(client, "/console/jobs?email=ann%40example.com", session.cookie).text
            #expect(first.contains("href=\"/console/jobs/60\"") && !first.contains("href=\"/console/jobs/10\""))
            #expect(first.contains("before=11"), "the next page starts below the last id shown")
            let second = try await get(client, "/console/jobs?email=ann%40example.com&before=11", session.cookie).text
            #expect(second.contains("href=\"/console/jobs/10\"") && !second.contains("href=\"/console/jobs/11\""))
            #expect(try await get(client, "/console/jobs?state=nonsense", session.cookie).status == .badRequest)
            #expect(try await get(client, "/console/jobs/999", session.cookie).status == .notFound)
            // The dry run lists and changes nothing; the confirmation names exactly the jobs listed.
            let preview = try await get(client, "/console/bulk?action=replay&state=failed", session.cookie).text
            #expect(preview.contains("will replay") && preview.contains("name=\"ids\" value=\"\(claimed.job.id)\""))
            #expect(try await harness.store.job(id: claimed.job.id)?.state == .failed)
        }
    }

    @Test func aScopedTokenNeitherSeesNorDecidesAnotherCoursesOrderAndAViewerGetsNoWholeCodes() async throws {
        let harness = try ServerHarness()
        let scoped = try await harness.store.createToken(name: "mit-finance", role: .financeAdmin, scope: ["course-v1:MITx+"])
        let viewer = try await harness.store.createToken(name: "victor", role: .viewer)
        let items = OrderFulfilment.plan([OrderItem(courseID: "course-v1:HarvardX+CS50+2026", quantity: 1, unitPrice: "10.00")])
        try await harness.store.createOrder(NewOrder(reference: "H-1", email: "ann@example.com", currency: "USD", total: 10, items: items, profileID: "p1"))
        _ = try await harness.store.applyPayment(VerifiedCallback(profileID: "p1", referenceNumber: "H-1", transactionID: "T1", currency: "USD",
                                                                  decision: .review, requestAmount: 10, authAmount: nil, signedDateTime: Date()),
                                                 delivery: NewDelivery(source: "cybersource", body: [], verdict: "review", httpStatus: 200))
        let (invoice, _) = try await harness.store.createInvoice(try InvoiceRules.check(InvoiceRequest(
            courseID: "course-v1:MITx+6.002x+2026", mode: "audit", seats: 2, unitPrice: "10.00", currency: "USD", companyName: "Acme",
            contactEmail: "a@example.com", recipientEmail: "r@example.com")).get(), actor: "t", publicURL: nil)
        try await harness.test { client in
            let session = try await signIn(client, scoped)
            #expect(!(try await get(client, "/console/orders", session.cookie).text.contains("H-1")))
            var headers = HTTPFields()
            headers[.cookie] = session.cookie
            headers[.contentType] = "application/x-www-form-urlencoded"
            let decided = try await client.execute(uri: "/console/orders/H-1/review", method: .post, headers: headers,
                                                   body: ByteBuffer(string: FormEncoding.encode([("csrf", session.csrf), ("decision", "accept")])))
            #expect(decided.status == .forbidden)
            #expect(try await harness.store.order(reference: "H-1")?.status == .inReview, "nothing decided")
            #expect(try await get(client, "/console/invoices/\(invoice.id)/codes.csv", session.cookie).status == .ok)
            let looker = try await signIn(client, viewer)
            #expect(try await get(client, "/console/invoices/\(invoice.id)/codes.csv", looker.cookie).status == .forbidden)
        }
    }

    @Test func anOperatorDismissesAStoreOrdersFlagAndAViewerCannot() async throws {
        let harness = try ServerHarness()
        let ops = try await harness.store.createToken(name: "ops", role: .ops)
        let viewer = try await harness.store.createToken(name: "victor", role: .viewer)
        @Sendable func order(_ status: String, modified: String) -> String {
            #"{"id":900,"number":"900","status":"\#(status)","currency":"USD","total":"147.00","date_modified_gmt":"\#(modified)","billing":{"first_name":"Pat","last_name":"Lead","email":"pat@example.com"},"line_items":[{"id":901,"name":"Demo","product_id":93,"variation_id":0,"quantity":3,"subtotal":"147.00","total":"147.00","sku":"","price":49,"meta_data":[]}],"refunds":[]}"#
        }
        try await harness.test { client in
            func deliver(_ body: String) async throws {
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                headers[.init("X-WC-Webhook-Topic")!] = "order.updated"
                headers[.init("X-WC-Webhook-Signature")!] = WooWebhookSignature.sign(body: Array(body.utf8), secret: Secret(ServerHarness.webhookSecret))
                #expect(try await client.execute(uri: "/webhooks/woocommerce/main", method: .post, headers: headers, body: ByteBuffer(string: body)).status == .ok)
            }
            // Three seats as codes, one redeemed, then the order refunded: the redeemed seat flags it.
            try await deliver(order("processing", modified: "2026-12-01T09:00:00"))
            let codes = try await harness.store.codes(CodeFilter(source: "order", sourceReference: "main:900:901"))
            _ = try await harness.store.redeem(try #require(codes.first).code, email: "kim@example.com")
            try await deliver(order("refunded", modified: "2026-12-01T10:00:00"))
            #expect(try await harness.store.storeOrdersNeedingAttention(limit: 10).map(\.reference) == ["main:900"])

            func dismiss(_ session: (cookie: String, csrf: String)) async throws -> HTTPResponse.Status {
                var headers = HTTPFields()
                headers[.cookie] = session.cookie
                headers[.contentType] = "application/x-www-form-urlencoded"
                return try await client.execute(uri: "/console/orders/woocommerce/main/900/dismiss", method: .post, headers: headers,
                                                body: ByteBuffer(string: FormEncoding.encode([("csrf", session.csrf)]))).status
            }
            let looker = try await signIn(client, viewer)
            #expect(try await dismiss(looker) == .forbidden)
            let operatorSession = try await signIn(client, ops)
            #expect(try await get(client, "/console/orders", operatorSession.cookie).text.contains("refund_exceeds_unredeemed_seats"))
            #expect(try await dismiss(operatorSession) == .seeOther)
            #expect(try await harness.store.storeOrdersNeedingAttention(limit: 10).isEmpty)
            #expect(try await harness.store.auditTrail(before: nil, limit: 5).first?.actor == "console:ops")
        }
    }

    @Test func aScopedTokenSeesOnlyItsCoursesCodesAndContracts() async throws {
        let harness = try ServerHarness()
        let scoped = try await harness.store.createToken(name: "mit", role: .salesAdmin, scope: ["course-v1:MITx+"])
        _ = try await harness.store.createCodes(NewCodes(count: 1, courseID: "course-v1:MITx+6.002x+2026", mode: "audit", source: "invoice", sourceReference: "1"))
        _ = try await harness.store.createCodes(NewCodes(count: 1, courseID: "course-v1:HarvardX+CS50+2026", mode: "audit", source: "invoice", sourceReference: "2"))
        try await harness.test { client in
            let session = try await signIn(client, scoped)
            let codes = try await get(client, "/console/codes", session.cookie).text
            #expect(codes.contains("course-v1:MITx+6.002x+2026") && !codes.contains("HarvardX"))
        }
    }
}
