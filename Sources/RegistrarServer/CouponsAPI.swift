import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarStore

/// `/api/v1/coupons…` for sales admins: what `registrar coupons` does. A scoped token makes, sees and deactivates
/// only coupons limited to its courses: an all-courses coupon would discount courses it may not touch.
struct CouponsAPI: Sendable {
    let store: any CouponBook
    let logger: Logger

    func register(_ api: RouterGroup<RegistrarRequestContext>, maxBody: Int) {
        let coupons = api.group("coupons").add(middleware: RequireRole(.salesAdmin))
        coupons.post { request, context -> Response in
            switch await JSONBody.object(request, limit: maxBody) {
            case .refused(let response): return response
            case .object(let fields): return await create(fields, context: context)
            }
        }
        coupons.get { _, context -> Response in
            await answer {
                let found = try await store.coupons().filter { Self.within(context.identity, $0.coupon) }
                return JSONResponse.make(.ok, json: .object(["coupons": .array(found.map(CouponJSON.json))]))
            }
        }
        coupons.get(":code") { _, context -> Response in
            await answer {
                switch try await coupon(context) {
                case .refused(let response): return response
                case .found(let record): return JSONResponse.make(.ok, json: CouponJSON.json(record))
                }
            }
        }
        coupons.post(":code/deactivate") { _, context -> Response in
            await answer {
                switch try await coupon(context) {
                case .refused(let response): return response
                case .found(let record):
                    do {
                        let deactivated = try await store.deactivateCoupon(code: record.coupon.code, actor: PricesAPI.actor(context))
                        return JSONResponse.make(.ok, json: CouponJSON.json(deactivated))
                    } catch let error as CouponError {
                        return JSONResponse.error(.notFound, code: "unknown_coupon", message: error.description)
                    }
                }
            }
        }
    }

    func create(_ fields: [String: JSONValue], context: RegistrarRequestContext) async -> Response {
        guard let code = fields["code"]?.stringValue else { return Self.invalid("code is required: send {\"code\", \"percent\" or \"amount\" and \"currency\", …}") }
        // A field of the wrong type is refused, not dropped: a limit sent as ["x"] must not make a coupon unlimited.
        func text(_ name: String) -> (value: String?, wrong: Bool) {
            guard let value = fields[name], value != .null else { return (nil, false) }
            return (value.stringValue, value.stringValue == nil)
        }
        let (percent, currency, expires, description) = (text("percent"), text("currency"), text("expires"), text("description"))
        let amount = text("amount")
        for (name, read) in [("percent", percent), ("amount", amount), ("currency", currency), ("expires", expires), ("description", description)]
            where read.wrong {
            return Self.invalid("\(name) must be \(name == "percent" || name == "amount" ? "a number or a decimal string" : "a string")")
        }
        var courses: [String] = []
        if let value = fields["courses"], value != .null {
            let list = value.arrayValue ?? [.null]
            courses = list.compactMap { if case .string(let course) = $0 { course } else { nil } }
            guard courses.count == list.count else { return Self.invalid("courses must be a list of course run keys or prefixes ending in +") }
        }
        var maxUses: Int?
        if let value = fields["max_uses"], value != .null {
            guard case .number(let number) = value, number == number.rounded(), abs(number) < 1e9 else {
                return Self.invalid("max_uses must be a whole number")
            }
            maxUses = Int(number)
        }
        let coupon: Coupon
        switch CouponDefinition.coupon(code: code, percent: percent.value, amount: amount.value, currency: currency.value,
                                       courses: courses, expires: expires.value, maxUses: maxUses) {
        case .failure(let problem): return Self.invalid(problem.message.replacingOccurrences(of: "max-uses", with: "max_uses"))
        case .success(let made): coupon = made
        }
        if let token = context.identity, !Self.within(token, coupon) {
            let outside = coupon.courses.first { !token.covers($0) }
            return JSONResponse.error(.forbidden, code: "out_of_scope", message: outside.map { "this token is not allowed \($0)" }
                                      ?? "this token is limited to some courses: its coupons must name them in courses")
        }
        return await answer {
            do {
                try await store.createCoupon(coupon, description: description.value, actor: PricesAPI.actor(context))
            } catch let error as CouponError {
                return JSONResponse.error(.conflict, code: "coupon_exists", message: error.description)
            }
            guard let record = try await store.coupon(code: coupon.code) else {
                return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "the coupon was stored but cannot be read back")
            }
            return JSONResponse.make(.created, json: CouponJSON.json(record))
        }
    }

    enum Lookup {
        case found(CouponRecord)
        case refused(Response)
    }

    /// The coupon the path names, if the token may see it.
    func coupon(_ context: RegistrarRequestContext) async throws -> Lookup {
        let typed = context.parameters.get("code").map { $0.removingPercentEncoding ?? $0 } ?? ""
        guard let code = CouponDefinition.normalizedCode(typed), let record = try await store.coupon(code: code) else {
            return .refused(JSONResponse.error(.notFound, code: "unknown_coupon", message: "no coupon \(ControlCharacterEscaping.escaped(String(typed.prefix(40))))"))
        }
        guard Self.within(context.identity, record.coupon) else {
            return .refused(JSONResponse.error(.forbidden, code: "out_of_scope",
                                               message: "coupon \(record.coupon.code) applies to courses this token is not allowed"))
        }
        return .found(record)
    }

    /// A scoped token covers a coupon limited to courses all within its scope.
    static func within(_ token: APIToken?, _ coupon: Coupon) -> Bool {
        guard let token, token.scope != nil else { return true }
        return !coupon.courses.isEmpty && coupon.courses.allSatisfy { token.covers($0) }
    }

    static func invalid(_ message: String) -> Response {
        JSONResponse.error(.badRequest, code: "invalid_coupon", message: message)
    }

    func answer(_ work: () async throws -> Response) async -> Response {
        do { return try await work() } catch {
            logger.error("coupons API failed", metadata: ["error": "\(error)"])
            return JSONResponse.databaseUnavailable(error)
        }
    }
}

/// A coupon as the API and `registrar coupons list|show --json` show it: `percent`, or `amount` and `currency`
/// (the others null), decimal text throughout.
public enum CouponJSON {
    public static func json(_ record: CouponRecord) -> JSONValue {
        let coupon = record.coupon
        var percent: JSONValue = .null, amount: JSONValue = .null, currency: JSONValue = .null
        switch coupon.kind {
        case .percent(let value): percent = .string("\(value)")
        case .amount(let value, let code): (amount, currency) = (.string(Money.format(value)), .string(code))
        }
        return .object([
            "code": .string(coupon.code), "percent": percent, "amount": amount, "currency": currency, "off": .string(coupon.off),
            "courses": .array(coupon.courses.map(JSONValue.string)), "expires": coupon.expires.map(JSONValue.string) ?? .null,
            "max_uses": coupon.maxUses.map { .number(Double($0)) } ?? .null, "used": .number(Double(record.used)),
            "held": .number(Double(record.held)), "active": .bool(coupon.active),
            "description": record.description.map(JSONValue.string) ?? .null,
            "created_at": .string(Timestamp.format(record.createdAt)), "created_by": .string(record.createdBy),
        ])
    }
}
