import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarStore

/// `POST /api/v1/orders` and `GET /api/v1/orders/{reference}`: a storefront registers an order and gets the
/// signed hosted-checkout fields back, so it never holds the CyberSource secret.
struct OrdersAPI: Sendable {
    let config: RegistrarConfig
    let orders: any OrderBook
    let prices: any PriceList
    let codes: any CodeBook
    let signer: CheckoutSigner
    let logger: Logger

    struct NewOrderRequest: Decodable {
        struct Item: Decodable {
            var course_id: String
            var mode: String?
            var quantity: Int?
            /// Absent: the listed price.
            var unit_price: String?
        }
        var reference: String?
        var email: String
        var currency: String
        var items: [Item]
        var profile_id: String?
        var locale: String?
        var coupon: String?
    }

    func register(_ api: RouterGroup<RegistrarRequestContext>, maxBody: Int) {
        api.group("orders").add(middleware: RequireRole(.storefront)).post { request, context -> Response in
            guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: maxBody) else {
                return JSONResponse.error(.contentTooLarge, code: "too_large", message: "the body is too large or unreadable")
            }
            return await create(body, by: context.identity)
        }
        api.group("orders").add(middleware: RequireRole(.storefront, .ops, .financeAdmin)).get(":reference") { _, context -> Response in
            await show(context.parameters.get("reference") ?? "", to: context.identity)
        }
    }

    func create(_ body: [UInt8], by token: APIToken?) async -> Response {
        let tokenName = token?.name
        let input: NewOrderRequest
        do { input = try JSONDecoder().decode(NewOrderRequest.self, from: Data(body)) } catch {
            return JSONResponse.error(.badRequest, code: "malformed_order", message: "the order is not the expected JSON: \(Self.describe(error))")
        }
        if let token, let outside = input.items.first(where: { !token.covers($0.course_id) }) {
            return JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(outside.course_id)")
        }
        let listed: ListedPrices
        do { listed = ListedPrices(try await prices.prices(courseIDs: input.items.map(\.course_id))) } catch {
            logger.error("could not read the price list", metadata: ["error": "\(error)"])
            return JSONResponse.databaseUnavailable(error)
        }
        let validated: (NewOrder, CyberSourceProfile)
        switch validate(input, prices: listed, maySetPrices: token?.maySetPrices ?? false) {
        case .failure(let problem):
            return JSONResponse.error(problem.code == "invalid_order" ? .badRequest : .unprocessableContent, code: problem.code,
                                      message: problem.message)
        case .success(let value): validated = value
        }
        var (order, profile) = validated
        order.createdBy = tokenName
        order.coupon = input.coupon
        order.couponHold = TimeInterval(config.orders.holdMinutes * 60)
        let stored: Order
        do {
            stored = try await orders.createOrder(order)
        } catch OrderError.referenceTaken(let reference) {
            return JSONResponse.error(.conflict, code: "reference_taken", message: "an order with reference \(reference) exists already")
        } catch OrderError.coupon(let refusal) {
            return JSONResponse.error(.unprocessableContent, code: refusal.code, message: refusal.message)
        } catch {
            logger.error("could not register an order", metadata: ["error": "\(error)"])
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "the order could not be stored")
        }
        logger.info(stored.status == .paid ? "order registered and paid: nothing to pay" : "order registered",
                    metadata: ["order": "\(stored.reference)", "email": "\(stored.email)", "total": "\(stored.total) \(stored.currency)"]
                        .merging(stored.coupon.map { ["coupon": "\($0)"] } ?? [:]) { $1 })
        var answer = Self.pricedJSON(stored)
        answer["status"] = .string(stored.status.rawValue)
        if stored.status == .paid {
            // Nothing to pay: no trip to CyberSource; the seats are on their way already.
            answer["cybersource"] = .null
        } else {
            let fields = signer.fields(reference: stored.reference, total: Money.parse(stored.total) ?? order.total,
                                       currency: stored.currency, email: stored.email, profile: profile, locale: input.locale ?? "en")
            answer["cybersource"] = .object([
                "endpoint": .string(config.cybersource.endpoint),
                "fields": .object(fields.mapValues(JSONValue.string)),
            ])
        }
        return JSONResponse.make(.created, json: .object(answer))
    }

    /// What an order costs and why: its items at their prices with each line's discount, the total at list price,
    /// the discount, the coupon and the total to pay.
    static func pricedJSON(_ order: Order, codes: [Int: [CodeRecord]] = [:]) -> [String: JSONValue] {
        [
            "reference": .string(order.reference),
            "email": .string(order.email),
            "list_total": .string(Money.format(order.listTotal)),
            "discount": .string(Money.format(order.discountTotal)),
            "coupon": order.coupon.map(JSONValue.string) ?? .null,
            "total": .string(order.total),
            "currency": .string(order.currency),
            "items": itemsJSON(order.items, codes: codes),
        ]
    }

    /// The rules are the core's (`OrderRequestRules`); this only maps the JSON onto them.
    func validate(_ input: NewOrderRequest, prices: ListedPrices, maySetPrices: Bool) -> Result<(NewOrder, CyberSourceProfile), OrderRequestProblem> {
        let lines = input.items.map {
            OrderRequestRules.Line(courseID: $0.course_id, mode: $0.mode, quantity: $0.quantity, unitPrice: $0.unit_price)
        }
        let checked: OrderRequestRules.Checked
        switch OrderRequestRules.check(email: input.email, currency: input.currency, lines: lines, reference: input.reference,
                                       prices: prices, maySetPrices: maySetPrices, newReference: OrderRequestRules.newReference) {
        case .success(let found): checked = found
        case .failure(let problem): return .failure(problem)
        }
        let profile: CyberSourceProfile
        switch OrderRequestRules.profile(named: input.profile_id, in: config.cybersource.profiles) {
        case .success(let found): profile = found
        case .failure(let problem): return .failure(problem)
        }
        return .success((NewOrder(reference: checked.reference, email: checked.email, currency: checked.currency,
                                  total: checked.total, items: OrderFulfilment.plan(checked.items), profileID: profile.profileID),
                         profile))
    }

    func show(_ reference: String, to token: APIToken?) async -> Response {
        do {
            // Another storefront's order is answered as if absent: its existence is not this token's business.
            guard let order = try await orders.order(reference: reference),
                  let token, OrderVisibility.canRead(role: token.role, tokenName: token.name, createdBy: order.createdBy) else {
                return JSONResponse.error(.notFound, code: "unknown_order", message: "no order \(reference)")
            }
            if let outside = order.items.first(where: { !token.covers($0.courseID) }) {
                return JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(outside.courseID)")
            }
            let payments = try await orders.payments(ofOrder: reference)
            let jobs = try await orders.jobs(ofOrder: reference)
            var seatCodes: [Int: [CodeRecord]] = [:]
            for (index, item) in order.items.enumerated() where item.quantity > 1 {
                seatCodes[index] = try await codes.codes(CodeFilter(source: "order",
                                                                    sourceReference: OrderFulfilment.seatSource(reference: reference, index: index)))
            }
            return JSONResponse.make(.ok, Self.orderJSON(order, payments: payments, jobs: jobs, codes: seatCodes))
        } catch {
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
        }
    }

    /// - Parameter codes: the codes of multi-seat items, by item index (a storefront shows them on its receipt).
    static func orderJSON(_ order: Order, payments: [Payment], jobs: [Job], codes: [Int: [CodeRecord]] = [:]) -> JSONValue {
        var object = pricedJSON(order, codes: codes)
        object.merge([
            "status": .string(order.status.rawValue),
            "created_at": .string(Timestamp.format(order.createdAt)),
            "payments": .array(payments.map { payment in
                .object(["transaction_id": .string(payment.transactionID), "decision": .string(payment.decision),
                         "amount": payment.amount.map(JSONValue.string) ?? .null, "currency": payment.currency.map(JSONValue.string) ?? .null,
                         "outcome": .string(payment.outcome), "at": .string(Timestamp.format(payment.createdAt))])
            }),
            "jobs": .array(jobs.map { job in
                .object(["id": .number(Double(job.id)), "kind": .string(job.kind.rawValue), "state": .string(job.state.rawValue),
                         "last_error": job.lastError.map(JSONValue.string) ?? .null])
            }),
        ]) { $1 }
        object["attention"] = order.attention.map { .string($0.rawValue) } ?? .null
        object["transaction_id"] = order.transactionID.map(JSONValue.string) ?? .null
        return .object(object)
    }

    static func itemsJSON(_ items: [OrderItem], codes: [Int: [CodeRecord]] = [:]) -> JSONValue {
        .array(items.enumerated().map { index, item in
            var object: [String: JSONValue] = [
                "course_id": .string(item.courseID), "mode": item.mode.map(JSONValue.string) ?? .null,
                "quantity": .number(Double(item.quantity)), "unit_price": .string(item.unitPrice),
                "discount": .string(Money.format(item.discountAmount)), "total": .string(Money.format(item.net)),
                "fulfilment": item.fulfilment.map(JSONValue.string) ?? .null,
            ]
            if let itemCodes = codes[index] {
                object["codes"] = .array(itemCodes.reversed().map { code in
                    .object(["code": .string(code.code.grouped), "state": .string(code.state.rawValue)])
                })
            }
            return .object(object)
        })
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "\((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        case DecodingError.dataCorrupted:
            return "not valid JSON"
        default:
            return "\(error)"
        }
    }
}

/// The JSON shape of an order, shared by the API and `registrar orders --json`.
public enum OrdersAPIShape {
    public static func json(_ order: Order, payments: [Payment], jobs: [Job]) -> JSONValue {
        OrdersAPI.orderJSON(order, payments: payments, jobs: jobs)
    }

    /// A flagged WooCommerce order; `source` tells it from a checkout order in the same list.
    public static func json(_ flag: FlaggedStoreOrder) -> JSONValue {
        .object(["source": .string("woocommerce"), "reference": .string(flag.reference), "store": .string(flag.store),
                 "order_id": .number(Double(flag.orderID)), "attention": .string(flag.attention.rawValue),
                 "detail": .string(flag.detail), "since": .string(Timestamp.format(flag.since))])
    }
}
