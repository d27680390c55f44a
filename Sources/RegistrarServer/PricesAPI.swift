import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarStore

/// `/api/v1/prices` for finance admins: what `registrar prices` does. A scoped token lists and changes only its
/// courses' prices.
struct PricesAPI: Sendable {
    let store: any PriceList
    let logger: Logger

    func register(_ api: RouterGroup<RegistrarRequestContext>, maxBody: Int) {
        let prices = api.group("prices").add(middleware: RequireRole(.financeAdmin))
        prices.get { request, context -> Response in
            let courseID = request.uri.queryParameters.get("course_id").flatMap { $0.isEmpty ? nil : $0 }
            if let courseID, let token = context.identity, !token.covers(courseID) { return Self.outOfScope(courseID) }
            return await answer {
                let listed = try await store.prices(courseIDs: courseID.map { [$0] })
                    .filter { context.identity?.covers($0.courseID) ?? true }
                return JSONResponse.make(.ok, json: .object(["prices": .array(listed.map(PriceJSON.json))]))
            }
        }
        prices.put { request, context -> Response in
            let fields: [String: JSONValue]
            switch await JSONBody.object(request, limit: maxBody) {
            case .refused(let response): return response
            case .object(let object): fields = object
            }
            // A price may come as a JSON number; JSONValue gives its shortest decimal text, which Money then checks.
            guard let courseID = fields["course_id"]?.stringValue, let mode = fields["mode"]?.stringValue,
                  let currency = fields["currency"]?.stringValue, let price = fields["price"]?.stringValue else {
                let missing = ["course_id", "mode", "currency", "price"].first { fields[$0]?.stringValue == nil } ?? "price"
                return JSONResponse.error(.badRequest, code: "missing_field",
                                          message: "\(missing) is missing or not text: send {\"course_id\", \"mode\", \"currency\", \"price\": \"49.00\"}")
            }
            if let problem = ListedPrice.problem(courseID: courseID, mode: mode, currency: currency, price: price) {
                return JSONResponse.error(.unprocessableContent, code: "invalid_price", message: problem)
            }
            if let token = context.identity, !token.covers(courseID) { return Self.outOfScope(courseID) }
            return await answer {
                let listed = ListedPrice(courseID: courseID, mode: mode, currency: currency, price: Money.parse(price) ?? 0)
                let previous = try await store.setPrice(listed, actor: Self.actor(context))
                var json = PriceJSON.fields(listed)
                json["previous"] = previous.map { .string(Money.format($0.price)) } ?? .null
                return JSONResponse.make(.ok, json: .object(json))
            }
        }
        prices.delete { request, context -> Response in
            let query = request.uri.queryParameters
            guard let courseID = query.get("course_id"), !courseID.isEmpty, let mode = query.get("mode"), !mode.isEmpty else {
                return JSONResponse.error(.badRequest, code: "missing_field", message: "course_id and mode are required (currency is optional)")
            }
            let currency = query.get("currency").flatMap { $0.isEmpty ? nil : $0.uppercased() }
            if let token = context.identity, !token.covers(courseID) { return Self.outOfScope(courseID) }
            return await answer {
                let removed = try await store.removePrices(courseID: courseID, mode: mode, currency: currency, actor: Self.actor(context))
                guard !removed.isEmpty else {
                    return JSONResponse.error(.notFound, code: "unknown_price",
                                              message: "no price is listed for \(courseID) \(mode)\(currency.map { " in \($0)" } ?? "")")
                }
                return JSONResponse.make(.ok, json: .object(["removed": .array(removed.map(PriceJSON.json))]))
            }
        }
    }

    /// Who the audit trail names: the token, as the middleware put it in the context.
    static func actor(_ context: RegistrarRequestContext) -> String { "api:" + (context.identity?.name ?? "unknown") }

    static func outOfScope(_ courseID: String) -> Response {
        JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(courseID)")
    }

    func answer(_ work: () async throws -> Response) async -> Response {
        do { return try await work() } catch {
            logger.error("prices API failed", metadata: ["error": "\(error)"])
            return JSONResponse.databaseUnavailable(error)
        }
    }
}

/// A listed price as the API and `registrar prices list --json` show it; money as decimal text.
public enum PriceJSON {
    public static func json(_ price: ListedPrice) -> JSONValue { .object(fields(price)) }

    static func fields(_ price: ListedPrice) -> [String: JSONValue] {
        ["course_id": .string(price.courseID), "mode": .string(price.mode), "currency": .string(price.currency),
         "price": .string(Money.format(price.price))]
    }
}

/// A request body that must be a JSON object: the object, or the answer refusing it.
enum JSONBody {
    enum Read {
        case object([String: JSONValue])
        case refused(Response)
    }

    static func object(_ request: Request, limit: Int) async -> Read {
        guard case .bytes(let bytes) = await RegistrarHTTPServer.collectBody(request, limit: limit) else {
            return .refused(JSONResponse.error(.contentTooLarge, code: "too_large", message: "the body is too large or unreadable"))
        }
        guard case .object(let object)? = try? JSONValue.parse(bytes: bytes) else {
            return .refused(JSONResponse.error(.badRequest, code: "malformed_json", message: "the body is not a JSON object"))
        }
        return .object(object)
    }
}
