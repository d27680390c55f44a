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
    let codes: any CodeBook
    let signer: CheckoutSigner
    let logger: Logger

    struct NewOrderRequest: Decodable {
        struct Item: Decodable {
            var course_id: String
            var mode: String?
            var quantity: Int?
            var unit_price: String
        }
        var reference: String?
        var email: String
        var currency: String
        var items: [Item]
        var profile_id: String?
        var locale: String?
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
        let validated: (NewOrder, CyberSourceProfile)
        switch validate(input) {
        case .failure(let problem): return JSONResponse.error(.badRequest, code: "invalid_order", message: problem.message)
        case .success(let value): validated = value
        }
        var (order, profile) = validated
        if let token, let outside = order.items.first(where: { !token.covers($0.courseID) }) {
            return JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(outside.courseID)")
        }
        order.createdBy = tokenName
        do {
            try await orders.createOrder(order)
        } catch OrderError.referenceTaken(let reference) {
            return JSONResponse.error(.conflict, code: "reference_taken", message: "an order with reference \(reference) exists already")
        } catch {
            logger.error("could not register an order", metadata: ["error": "\(error)"])
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "the order could not be stored")
        }
        let fields = signer.fields(reference: order.reference, total: order.total, currency: order.currency, email: order.email,
                                   profile: profile, locale: input.locale ?? "en")
        logger.info("order registered", metadata: ["order": "\(order.reference)", "email": "\(order.email)",
                                                   "total": "\(Money.format(order.total)) \(order.currency)"])
        let answer: JSONValue = .object([
            "reference": .string(order.reference),
            "email": .string(order.email),
            "total": .string(Money.format(order.total)),
            "currency": .string(order.currency),
            "status": .string(OrderStatus.pending.rawValue),
            "items": Self.itemsJSON(order.items),
            "cybersource": .object([
                "endpoint": .string(config.cybersource.endpoint),
                "fields": .object(fields.mapValues(JSONValue.string)),
            ]),
        ])
        return JSONResponse.make(.created, answer)
    }

    struct Problem: Error { var message: String }

    /// The rules are the core's (`OrderRequestRules`); this only maps the JSON onto them.
    func validate(_ input: NewOrderRequest) -> Result<(NewOrder, CyberSourceProfile), Problem> {
        let lines = input.items.map {
            OrderRequestRules.Line(courseID: $0.course_id, mode: $0.mode, quantity: $0.quantity, unitPrice: $0.unit_price)
        }
        let checked: OrderRequestRules.Checked
        switch OrderRequestRules.check(email: input.email, currency: input.currency, lines: lines, reference: input.reference,
                                       newReference: OrderRequestRules.newReference) {
        case .success(let found): checked = found
        case .failure(let problem): return .failure(Problem(message: problem.message))
        }
        let profile: CyberSourceProfile
        switch OrderRequestRules.profile(named: input.profile_id, in: config.cybersource.profiles) {
        case .success(let found): profile = found
        case .failure(let problem): return .failure(Problem(message: problem.message))
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
        var object: [String: JSONValue] = [
            "reference": .string(order.reference),
            "email": .string(order.email),
            "total": .string(order.total),
            "currency": .string(order.currency),
            "status": .string(order.status.rawValue),
            "items": itemsJSON(order.items, codes: codes),
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
        ]
        object["attention"] = order.attention.map { .string($0.rawValue) } ?? .null
        object["transaction_id"] = order.transactionID.map(JSONValue.string) ?? .null
        return .object(object)
    }

    static func itemsJSON(_ items: [OrderItem], codes: [Int: [CodeRecord]] = [:]) -> JSONValue {
        .array(items.enumerated().map { index, item in
            var object: [String: JSONValue] = [
                "course_id": .string(item.courseID), "mode": item.mode.map(JSONValue.string) ?? .null,
                "quantity": .number(Double(item.quantity)), "unit_price": .string(item.unitPrice),
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
