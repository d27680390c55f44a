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
    let clock: any WallClock
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
            return await create(body, by: context.identity?.name)
        }
        api.group("orders").add(middleware: RequireRole(.storefront, .ops, .financeAdmin)).get(":reference") { _, context -> Response in
            await show(context.parameters.get("reference") ?? "", to: context.identity)
        }
    }

    func create(_ body: [UInt8], by tokenName: String?) async -> Response {
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
        order.createdBy = tokenName
        do {
            try await orders.createOrder(order)
        } catch OrderError.referenceTaken(let reference) {
            return JSONResponse.error(.conflict, code: "reference_taken", message: "an order with reference \(reference) exists already")
        } catch {
            logger.error("could not register an order", metadata: ["error": "\(error)"])
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "the order could not be stored")
        }
        let checkout = CheckoutRequest(profile: profile, referenceNumber: order.reference, amount: order.total,
                                       currency: order.currency, transactionUUID: UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
                                       signedDateTime: clock.now(), locale: input.locale ?? "en", email: order.email)
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
                "fields": .object(checkout.fields.mapValues(JSONValue.string)),
            ]),
        ])
        return JSONResponse.make(.created, answer)
    }

    struct Problem: Error { var message: String }

    func validate(_ input: NewOrderRequest) -> Result<(NewOrder, CyberSourceProfile), Problem> {
        if let problem = EmailAddressRule.problem(input.email) { return .failure(Problem(message: problem)) }
        let email = normalizedEmail(input.email)
        let currency = input.currency.uppercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return .failure(Problem(message: "currency \"\(input.currency)\" is not a three-letter ISO 4217 code"))
        }
        guard !input.items.isEmpty else { return .failure(Problem(message: "items is empty: an order sells at least one seat")) }
        var items: [OrderItem] = []
        var total = Decimal(0)
        for (index, item) in input.items.enumerated() {
            guard CourseKey(item.course_id) != nil else {
                return .failure(Problem(message: "items[\(index)].course_id \"\(item.course_id)\" is not a course run key like course-v1:ORG+NUMBER+RUN"))
            }
            let quantity = item.quantity ?? 1
            guard (1...10_000).contains(quantity) else {
                return .failure(Problem(message: "items[\(index)].quantity must be between 1 and 10000"))
            }
            guard let price = Money.parse(item.unit_price), price >= 0 else {
                return .failure(Problem(message: "items[\(index)].unit_price \"\(item.unit_price)\" is not an amount like 49.00"))
            }
            total += price * Decimal(quantity)
            items.append(OrderItem(courseID: item.course_id, mode: item.mode, quantity: quantity, unitPrice: Money.format(price)))
        }
        guard total > 0 else { return .failure(Problem(message: "the order's total is zero: nothing to pay")) }
        let reference = input.reference ?? "RG-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).uppercased()
        guard (1...64).contains(reference.count), reference.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
            return .failure(Problem(message: "reference \"\(reference)\" must be 1 to 64 letters, digits, - or _"))
        }
        let profiles = config.cybersource.profiles
        let profile: CyberSourceProfile
        if let id = input.profile_id {
            guard let found = profiles[id] else { return .failure(Problem(message: "profile_id \(id) is not under cybersource.profiles")) }
            profile = found
        } else if profiles.count == 1, let only = profiles.values.first {
            profile = only
        } else if profiles.isEmpty {
            return .failure(Problem(message: "no CyberSource profile is configured (cybersource.profiles)"))
        } else {
            return .failure(Problem(message: "several CyberSource profiles are configured: name one with profile_id"))
        }
        return .success((NewOrder(reference: reference, email: email, currency: currency, total: total,
                                  items: OrderFulfilment.plan(items), profileID: profile.profileID), profile))
    }

    func show(_ reference: String, to token: APIToken?) async -> Response {
        do {
            // Another storefront's order is answered as if absent: its existence is not this token's business.
            guard let order = try await orders.order(reference: reference),
                  let token, OrderVisibility.canRead(role: token.role, tokenName: token.name, createdBy: order.createdBy) else {
                return JSONResponse.error(.notFound, code: "unknown_order", message: "no order \(reference)")
            }
            let payments = try await orders.payments(ofOrder: reference)
            let jobs = try await orders.jobs(ofOrder: reference)
            return JSONResponse.make(.ok, Self.orderJSON(order, payments: payments, jobs: jobs))
        } catch {
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
        }
    }

    static func orderJSON(_ order: Order, payments: [Payment], jobs: [Job]) -> JSONValue {
        var object: [String: JSONValue] = [
            "reference": .string(order.reference),
            "email": .string(order.email),
            "total": .string(order.total),
            "currency": .string(order.currency),
            "status": .string(order.status.rawValue),
            "items": itemsJSON(order.items),
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

    static func itemsJSON(_ items: [OrderItem]) -> JSONValue {
        .array(items.map { item in
            .object(["course_id": .string(item.courseID), "mode": item.mode.map(JSONValue.string) ?? .null,
                     "quantity": .number(Double(item.quantity)), "unit_price": .string(item.unitPrice),
                     "fulfilment": item.fulfilment.map(JSONValue.string) ?? .null])
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
}
