import Foundation
import Hummingbird
import RegistrarCore
import RegistrarStore

/// Deliveries, orders needing attention (accept or reject a review), and codes, invoices and contracts to read
/// with their CSV files. A course-scoped token sees only its courses' codes, invoices and contracts.
struct ConsoleCommercePages: Sendable {
    let console: WebConsole
    var store: any RegistrarStorage { console.store }
    var publicURL: String? { console.config.server.publicURL }

    func register(_ router: Router<RegistrarRequestContext>, formLimit: Int) {
        router.get("/console/deliveries") { request, _ in
            await console.view(request, .deliveries) { try await deliveries($0, request.uri.queryParameters) }
        }
        router.get("/console/deliveries/:id") { request, context in
            await console.view(request, .deliveries) { session in
                guard let id = context.parameters.get("id").flatMap(Int64.init), let delivery = try await store.delivery(id: id) else {
                    return ConsoleHTML.response(.notFound, ConsoleHTML.page("No such delivery", session: session, current: .deliveries, body: ""))
                }
                return deliveryPage(session, delivery)
            }
        }
        router.get("/console/orders") { request, _ in
            await console.view(request, .orders) { try await orders($0, notice: request.uri.queryParameters["notice"].map(String.init)) }
        }
        router.get("/console/orders/:reference") { request, context in
            await console.view(request, .orders) { try await order($0, context.parameters.get("reference") ?? "") }
        }
        router.post("/console/orders/:reference/review") { request, context in
            await console.act(request, .review, limit: formLimit) { session, fields in
                let reference = context.parameters.get("reference") ?? ""
                let accept = fields["decision"] == "accept"
                guard let order = try await store.order(reference: reference), order.items.allSatisfy({ session.token.covers($0.courseID) }) else {
                    return console.forbidden(session, "Order \(reference) is not one this token may decide (unknown, or outside its courses).")
                }
                let notice: String
                do {
                    _ = try await store.review(reference: reference, accept: accept, actor: session.actor)
                    notice = "Order \(reference) \(accept ? "accepted: its seats are on their way" : "rejected: nothing enrolled")."
                } catch let error as OrderError {
                    notice = "Refused: \(error.description)."
                }
                return ConsoleHTML.redirect("/console/orders?notice=" + ConsoleJobPages.query(notice))
            }
        }
        router.post("/console/orders/woocommerce/:store/:order/dismiss") { request, context in
            await console.act(request, .review, limit: formLimit) { session, _ in
                // A store order's flag does not say which courses it holds: a token limited to some courses may not clear it.
                guard session.token.scope == nil, let storeName = context.parameters.get("store"),
                      let orderID = context.parameters.get("order").flatMap(Int.init) else {
                    return console.forbidden(session, "Only a token for every course dismisses a store order's flag.")
                }
                let cleared = try await store.dismissStoreOrder(store: storeName, orderID: orderID, actor: session.actor, note: nil)
                let notice = cleared.map { "WooCommerce order \($0.reference): \($0.attention.rawValue) dismissed." }
                    ?? "WooCommerce order \(storeName):\(orderID) has no flag to dismiss."
                return ConsoleHTML.redirect("/console/orders?notice=" + ConsoleJobPages.query(notice))
            }
        }
        router.get("/console/codes") { request, _ in
            await console.view(request, .codes) { try await codes($0, request.uri.queryParameters) }
        }
        router.get("/console/invoices") { request, _ in await console.view(request, .invoices) { try await invoices($0) } }
        router.get("/console/invoices/:id/codes.csv") { request, context in
            await console.view(request, .invoices) { session in
                guard ConsoleAccess.mayExportCodes(session.token.role) else {
                    return console.forbidden(session, "Whole codes are for sales_admin and finance_admin tokens.")
                }
                guard let id = context.parameters.get("id").flatMap(Int64.init), let invoice = try await store.invoice(id: id),
                      session.token.covers(invoice.request.courseID) else {
                    return ConsoleHTML.response(.notFound, ConsoleHTML.page("No such invoice", session: session, current: .invoices, body: ""))
                }
                let codes = try await store.codes(CodeFilter(source: "invoice", sourceReference: String(id), limit: InvoiceRules.maxSeats))
                return ConsoleHTML.csv(CodeCSV.render(invoice.csvRows(codes.reversed()), publicURL: publicURL), filename: "invoice-\(id)-codes.csv")
            }
        }
        router.get("/console/contracts") { request, _ in await console.view(request, .contracts) { try await contracts($0) } }
        router.get("/console/contracts/:id/codes.csv") { request, context in
            await console.view(request, .contracts) { session in
                guard ConsoleAccess.mayExportCodes(session.token.role) else {
                    return console.forbidden(session, "Whole codes are for sales_admin and finance_admin tokens.")
                }
                guard let id = context.parameters.get("id").flatMap(Int64.init), let contract = try await store.contract(id),
                      contract.runs.allSatisfy({ session.token.covers($0.courseID) }) else {
                    return ConsoleHTML.response(.notFound, ConsoleHTML.page("No such contract", session: session, current: .contracts, body: ""))
                }
                let codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(contract.id), limit: 10_000_000))
                return ConsoleHTML.csv(ContractJSON.codesCSV(codes, publicURL: publicURL), filename: ContractCodesCSV.fileName(contract: contract.id))
            }
        }
    }

    /// One delivery as the ledger keeps it (card numbers were masked before it was stored).
    func deliveryPage(_ session: ConsoleSession, _ delivery: Delivery) -> Response {
        let headers = delivery.headers.sorted { $0.key < $1.key }.map { [ConsoleHTML.text($0.key), ConsoleHTML.text($0.value)] }
        let partial = delivery.bodyIsPartial ? " (the first \(delivery.body.count) of \(delivery.bodySize) bytes)" : ""
        let body = """
            <dl><dt>Received</dt><dd>\(ConsoleHTML.time(delivery.receivedAt))</dd>
            <dt>Source</dt><dd>\(ConsoleHTML.text(delivery.source + (delivery.channel.map { "/\($0)" } ?? "")))</dd>
            <dt>Verdict</dt><dd>\(ConsoleHTML.badge(delivery.verdict)) HTTP \(delivery.httpStatus) \(ConsoleHTML.text(delivery.reason))</dd>
            <dt>Jobs</dt><dd>\(delivery.jobIDs.map { ConsoleHTML.link("/console/jobs/\($0)", "job \($0)") }.joined(separator: " "))</dd>
            <dt>SHA-256</dt><dd>\(ConsoleHTML.text(delivery.bodySHA256))</dd></dl>
            <h2>Headers</h2>\(ConsoleHTML.table(["Name", "Value"], headers))
            <h2>Body\(partial)</h2><pre>\(ConsoleHTML.text(delivery.bodyText))</pre>
            """
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Delivery \(delivery.id)", session: session, current: .deliveries, body: body))
    }

    static let verdictWindow = 20_000

    func deliveries(_ session: ConsoleSession, _ query: Parameters) async throws -> Response {
        let verdict = query["verdict"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let before = query["before"].flatMap { Int64(String($0)) }
        var filter = DeliveryFilter(verdict: verdict, beforeID: before, limit: 100)
        if verdict != nil { filter.window = Self.verdictWindow }
        let found = try await store.deliveries(filter)
        let verdicts = ["accepted", "ignored", "stale", "rejected", "duplicate_callback", "paid"]
        let form = """
            <form method="get" action="/console/deliveries" class="search"><label>Verdict<select name="verdict"><option value="">any</option>\(
                verdicts.map { "<option\($0 == verdict ? " selected" : "")>\($0)</option>" }.joined())</select></label><button>Show</button></form>
            """
        let rows = found.map { delivery in
            ["\(delivery.id)", ConsoleHTML.time(delivery.receivedAt), ConsoleHTML.text(delivery.source + (delivery.channel.map { "/\($0)" } ?? "")),
             ConsoleHTML.badge(delivery.verdict), "\(delivery.httpStatus)", ConsoleHTML.text(delivery.reason),
             delivery.jobIDs.map { ConsoleHTML.link("/console/jobs/\($0)", "\($0)") }.joined(separator: " "),
             "\(delivery.bodySize) B"]
        }
        let window = verdict == nil ? "" : "<p class=\"empty\">A verdict is looked for among the newest \(Self.verdictWindow) deliveries (<code>registrar deliveries list --verdict</code> reads them all).</p>"
        let pager = found.count == 100 ? "<p class=\"pager\"><a href=\"/console/deliveries?\(verdict.map { "verdict=\(ConsoleJobPages.query($0))&" } ?? "")before=\(found.last!.id)\">Older →</a></p>" : ""
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Deliveries", session: session, current: .deliveries, body: form + window
            + ConsoleHTML.table(["#", "Received", "Source", "Verdict", "HTTP", "Reason", "Jobs", "Body"],
                                rows.map { [ConsoleHTML.link("/console/deliveries/\($0[0])", $0[0])] + $0.dropFirst() }, empty: "No deliveries.") + pager))
    }

    func orders(_ session: ConsoleSession, notice: String?) async throws -> Response {
        let flagged = try await store.orders(attentionOnly: true).filter { $0.items.allSatisfy { session.token.covers($0.courseID) } }
        // A store order's flag does not say which courses it holds: a token limited to some courses is not shown them.
        let stores = session.token.scope == nil ? try await store.storeOrdersNeedingAttention(limit: 100) : []
        let mayReview = ConsoleAccess.mayAct(.review, role: session.token.role)
        let rows = flagged.map { order -> [String] in
            var decide = "-"
            if order.status == .inReview {
                decide = mayReview ? ConsoleHTML.form("/console/orders/\(order.reference)/review", csrf: session.csrf,
                                                      fields: [("decision", "accept")], button: "Accept")
                    + " " + ConsoleHTML.form("/console/orders/\(order.reference)/review", csrf: session.csrf,
                                              fields: [("decision", "reject")], button: "Reject", danger: true)
                    : "<span class=\"empty\">your role may not decide</span>"
            }
            return [ConsoleHTML.link("/console/orders/\(order.reference)", order.reference), ConsoleHTML.text(order.email),
                    ConsoleHTML.text("\(order.total) \(order.currency)"), ConsoleHTML.badge(order.status.rawValue),
                    ConsoleHTML.text(order.attention?.rawValue), ConsoleHTML.time(order.updatedAt), decide]
        }
        let storeRows = stores.map { flag in
            [ConsoleHTML.text(flag.reference), ConsoleHTML.text(flag.attention.rawValue), ConsoleHTML.text(flag.detail), ConsoleHTML.time(flag.since),
             mayReview ? ConsoleHTML.form("/console/orders/woocommerce/\(ConsoleJobPages.query(flag.store))/\(flag.orderID)/dismiss", csrf: session.csrf,
                                          button: "Dealt with: dismiss") : "-"]
        }
        let body = "<h2>Hosted checkout</h2>" + ConsoleHTML.table(["Order", "Buyer", "Total", "Status", "Needs", "Since", "Decide"], rows,
                                                                 empty: "No checkout order needs attention.")
            + "<h2>WooCommerce</h2>" + ConsoleHTML.table(["Order", "Needs", "Detail", "Since", ""], storeRows, empty: "No store order needs attention.")
            + "<p class=\"empty\">Dismiss a store order's flag once it is dealt with (its codes revoked, or its learners kept); the audit trail keeps who did.</p>"
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Orders needing attention", session: session, current: .orders, body: body, notice: notice))
    }

    func order(_ session: ConsoleSession, _ reference: String) async throws -> Response {
        guard let order = try await store.order(reference: reference), order.items.allSatisfy({ session.token.covers($0.courseID) }) else {
            return ConsoleHTML.response(.notFound, ConsoleHTML.page("No such order", session: session, current: .orders, body: ""))
        }
        let payments = try await store.payments(ofOrder: reference).map {
            [ConsoleHTML.time($0.createdAt), ConsoleHTML.text($0.decision), ConsoleHTML.text($0.transactionID),
             ConsoleHTML.text("\($0.amount ?? "-") \($0.currency ?? "")"), ConsoleHTML.text($0.outcome)]
        }
        let jobs = try await store.jobs(ofOrder: reference).map(ConsoleJobPages.row)
        let items = order.items.map {
            ["\($0.quantity)", ConsoleHTML.text($0.courseID), ConsoleHTML.text($0.mode), ConsoleHTML.text($0.unitPrice),
             ConsoleHTML.text(Money.format($0.discountAmount)), ConsoleHTML.text($0.fulfilment)]
        }
        let body = """
            <dl><dt>Status</dt><dd>\(ConsoleHTML.badge(order.status.rawValue)) \(ConsoleHTML.text(order.attention?.rawValue))</dd>
            <dt>Buyer</dt><dd>\(ConsoleHTML.text(order.email))</dd><dt>Total</dt><dd>\(ConsoleHTML.text("\(order.total) \(order.currency)"))</dd>
            <dt>Coupon</dt><dd>\(ConsoleHTML.text(order.coupon ?? "-"))</dd><dt>Created</dt><dd>\(ConsoleHTML.time(order.createdAt))</dd></dl>
            <h2>Items</h2>\(ConsoleHTML.table(["Seats", "Course", "Mode", "Unit price", "Discount", "Fulfilment"], items))
            <h2>Payments</h2>\(ConsoleHTML.table(["At", "Decision", "Transaction", "Amount", "Outcome"], payments, empty: "No callback yet."))
            <h2>Jobs</h2>\(ConsoleHTML.table(["Job", "Kind", "State", "Tries", "Source", "Key", "Updated", "Last error"], jobs, empty: "No jobs."))
            """
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Order \(reference)", session: session, current: .orders, body: body))
    }

    func codes(_ session: ConsoleSession, _ query: Parameters) async throws -> Response {
        let course = query["course"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let found = try await store.codes(CodeFilter(courseID: course, coursePrefixes: session.token.scope, limit: 200))
        // A code is a seat: the page shows only its last characters, like the CLI's logs; the CSV has them whole.
        let rows = found.map { code in
            [ConsoleHTML.text("…" + String(code.code.grouped.suffix(4))), ConsoleHTML.text(code.courseID), ConsoleHTML.badge(code.state.rawValue),
             ConsoleHTML.text("\(code.source) \(code.sourceReference)"), ConsoleHTML.text(code.redemptions.map(\.email).joined(separator: ", ")),
             ConsoleHTML.time(code.createdAt)]
        }
        let form = "<form method=\"get\" action=\"/console/codes\" class=\"search\"><label>Course<input name=\"course\" value=\"\(ConsoleHTML.text(course))\"></label><button>Show</button></form>"
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Codes", session: session, current: .codes, body: form
            + ConsoleHTML.table(["Code", "Course", "State", "From", "Redeemed by", "Made"], rows, empty: "No codes.")
            + "<p class=\"empty\">The newest 200. Whole codes are in the invoices' and contracts' CSV files.</p>"))
    }

    func invoices(_ session: ConsoleSession) async throws -> Response {
        let found = try await store.invoices(limit: 200).filter { session.token.covers($0.request.courseID) }
        let rows = found.map { invoice in
            ["\(invoice.id)", ConsoleHTML.text(invoice.request.companyName), ConsoleHTML.text(invoice.request.courseID), "\(invoice.request.seats)",
             ConsoleHTML.text("\(Money.format(invoice.total)) \(invoice.request.currency)"), ConsoleHTML.badge(invoice.status.rawValue),
             ConsoleHTML.time(invoice.createdAt),
             ConsoleAccess.mayExportCodes(session.token.role) ? ConsoleHTML.link("/console/invoices/\(invoice.id)/codes.csv", "codes.csv") : "-"]
        }
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Invoices", session: session, current: .invoices,
                                                          body: ConsoleHTML.table(["#", "Company", "Course", "Seats", "Total", "Status", "Created", ""], rows, empty: "No invoices.")))
    }

    func contracts(_ session: ConsoleSession) async throws -> Response {
        let found = try await store.contracts(organization: nil).filter { $0.runs.allSatisfy { session.token.covers($0.courseID) } }
        let rows = found.map { contract in
            ["\(contract.id)", ConsoleHTML.text(contract.organization.name), ConsoleHTML.text(contract.name),
             ConsoleHTML.text(contract.terms.integration.rawValue), "\(contract.learners)" + (contract.terms.maxLearners.map { " / \($0)" } ?? ""),
             contract.runs.map { "\(ConsoleHTML.text($0.courseID)) \(ConsoleHTML.badge($0.state.rawValue))" }.joined(separator: "<br>"),
             contract.terms.active ? "active" : "inactive",
             ConsoleAccess.mayExportCodes(session.token.role) ? ConsoleHTML.link("/console/contracts/\(contract.id)/codes.csv", "codes.csv") : "-"]
        }
        return ConsoleHTML.response(.ok, ConsoleHTML.page("Contracts", session: session, current: .contracts,
                                                          body: ConsoleHTML.table(["#", "Organization", "Contract", "Kind", "Learners", "Runs", "", ""], rows, empty: "No contracts.")))
    }
}
