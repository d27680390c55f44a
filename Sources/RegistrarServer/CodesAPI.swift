import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import RegistrarCore
import RegistrarStore
import Synchronization

/// `/api/v1/codes…`: a storefront redeems a code for a learner; sales admins list, read and void codes
/// (finance admins read). A redemption is one store operation: the answer comes after the commit.
struct CodesAPI: Sendable {
    let codes: any CodeBook
    let desk: RedemptionDesk
    let logger: Logger

    struct VoidRequest: Decodable {
        var reason: String?
    }

    func register(_ api: RouterGroup<RegistrarRequestContext>, maxBody: Int, client: @escaping @Sendable (Request, RegistrarRequestContext) -> String) {
        api.group("codes").add(middleware: RequireRole(.storefront)).post(":code/redemptions") { request, context -> Response in
            let client = client(request, context)
            guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: maxBody) else {
                return JSONResponse.error(.contentTooLarge, code: "too_large", message: "the body is too large or unreadable")
            }
            return await redeem(context.parameters.get("code") ?? "", body: body, client: client, token: context.identity)
        }
        let reading = api.group("codes").add(middleware: RequireRole(.salesAdmin, .financeAdmin))
        reading.get { request, context -> Response in await list(request.uri.queryParameters, token: context.identity) }
        reading.get(":code") { _, context -> Response in await show(context.parameters.get("code") ?? "", token: context.identity) }
        api.group("codes").add(middleware: RequireRole(.salesAdmin)).post(":code/void") { request, context -> Response in
            guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: maxBody) else {
                return JSONResponse.error(.contentTooLarge, code: "too_large", message: "the body is too large or unreadable")
            }
            return await void(context.parameters.get("code") ?? "", body: body, token: context.identity)
        }
    }

    static func outOfScope(_ record: CodeRecord) -> Response {
        JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(record.courseID)")
    }

    func redeem(_ typed: String, body: [UInt8], client: String, token: APIToken?) async -> Response {
        // A scoped storefront redeems only its courses' codes: looked at first, refused unchanged.
        if let token, token.scope != nil, case .success(let code) = RegistrationCode.parse(typed.removingPercentEncoding ?? typed),
           let record = try? await codes.code(code), !token.covers(record.courseID) {
            return Self.outOfScope(record)
        }
        // The byte reader, not JSONDecoder: this is the storefront's hot path (JSONDecoder was 1.6 % of a redemption).
        guard case .object(let fields)? = try? JSONValue.parse(bytes: body), case .string(let email)? = fields["email"] else {
            // Nothing is checked before the budget is: a guesser must not learn more by sending garbage.
            if desk.failures.isExhausted(client) { return Self.limited(client) }
            return JSONResponse.error(.badRequest, code: "malformed_redemption", message: "expected {\"email\": \"…\"}")
        }
        switch await desk.attempt(code: typed.removingPercentEncoding ?? typed, email: email, client: client, createdBy: token?.name) {
        case .limited:
            return Self.limited(client)
        case .invalidEmail(let problem):
            return JSONResponse.error(.badRequest, code: "invalid_email", message: problem)
        case .malformedCode(let problem):
            return JSONResponse.error(.badRequest, code: "malformed_code", message: problem.message)
        case .unavailable:
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "the redemption could not be stored; try again")
        case .done(let outcome, let email):
            switch outcome {
            case .redeemed(let record, let jobID):
                return JSONResponse.make(.created, json: Self.redemption(record, email: email, jobID: jobID, status: "redeemed"))
            case .alreadyRedeemed(let record, let jobID):
                return JSONResponse.make(.ok, json: Self.redemption(record, email: email, jobID: jobID, status: "already_redeemed"))
            case .paymentRequired(let record, let order):
                guard let order, let checkout = desk.signer.checkoutJSON(order) else {
                    return JSONResponse.error(.init(code: 402), code: "payment_required",
                                              message: "this code costs \(Money.format(record.price)) \(record.currency ?? ""), and no CyberSource profile is configured to take the payment")
                }
                // The same order as POST /api/v1/orders answers, so the storefront sends the learner to the same checkout.
                return JSONResponse.make(.init(code: 402), json: .object([
                    "error": .string("payment_required"),
                    "message": .string("this code costs \(order.total) \(order.currency): the seat is held for \(email) until the order is paid or the hold lapses"),
                    "code": .string(record.code.grouped), "course_id": .string(record.courseID), "email": .string(email),
                    "order": .object([
                        "reference": .string(order.reference), "email": .string(order.email), "total": .string(order.total),
                        "currency": .string(order.currency), "status": .string(order.status.rawValue),
                        "items": OrdersAPI.itemsJSON(order.items), "cybersource": checkout,
                    ]),
                ]))
            case .refused(let refusal, _):
                return JSONResponse.error(.conflict, code: refusal.rawValue, message: refusal.message)
            case .unknownCode:
                return JSONResponse.error(.notFound, code: "unknown_code", message: "there is no such code: check it and try again")
            }
        }
    }

    static func limited(_ client: String) -> Response {
        var response = JSONResponse.error(.tooManyRequests, code: "too_many_failures",
                                          message: "too many failed redemptions from \(client) this minute; try again in a minute")
        response.headers[.retryAfter] = "60"
        return response
    }

    func list(_ query: Parameters, token: APIToken?) async -> Response {
        var filter = CodeFilter(courseID: query.get("course_id"), source: query.get("source"),
                                sourceReference: query.get("source_ref"), coursePrefixes: token?.scope,
                                limit: min(query.get("limit", as: Int.self) ?? 1000, 10_000))
        if let state = query.get("state") {
            guard let parsed = CodeState(rawValue: state) else {
                return JSONResponse.error(.badRequest, code: "bad_state", message: "state is active, redeemed or void")
            }
            filter.state = parsed
        }
        do {
            let found = try await codes.codes(filter)
            return JSONResponse.make(.ok, json: .object(["codes": .array(found.map { Self.json($0) })]))
        } catch {
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
        }
    }

    func show(_ typed: String, token: APIToken?) async -> Response {
        guard case .success(let code) = RegistrationCode.parse(typed) else {
            return JSONResponse.error(.badRequest, code: "malformed_code", message: "not a code")
        }
        do {
            guard let record = try await codes.code(code) else {
                return JSONResponse.error(.notFound, code: "unknown_code", message: "no such code")
            }
            if let token, !token.covers(record.courseID) { return Self.outOfScope(record) }
            return JSONResponse.make(.ok, json: Self.json(record))
        } catch {
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
        }
    }

    func void(_ typed: String, body: [UInt8], token: APIToken?) async -> Response {
        let actor = token?.name ?? "api"
        guard case .success(let code) = RegistrationCode.parse(typed) else {
            return JSONResponse.error(.badRequest, code: "malformed_code", message: "not a code")
        }
        if let token, token.scope != nil, let record = try? await codes.code(code), !token.covers(record.courseID) {
            return Self.outOfScope(record)
        }
        let reason = (body.isEmpty ? nil : try? JSONDecoder().decode(VoidRequest.self, from: Data(body)))?.reason ?? "voided by \(actor)"
        do {
            guard let record = try await codes.voidCodes([code], reason: reason, actor: actor).first else {
                return JSONResponse.error(.notFound, code: "unknown_code", message: "no such code")
            }
            logger.info("code voided", metadata: ["code": "\(code)", "by": "\(actor)"])
            return JSONResponse.make(.ok, json: Self.json(record))
        } catch {
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
        }
    }

    static func redemption(_ record: CodeRecord, email: String, jobID: Int64?, status: String) -> JSONValue {
        .object(["status": .string(status), "email": .string(email), "course_id": .string(record.courseID),
                 "mode": record.mode.map(JSONValue.string) ?? .null, "job": jobID.map { .number(Double($0)) } ?? .null])
    }

    /// A code as sales admins see it: whole (they hand codes out).
    static func json(_ record: CodeRecord) -> JSONValue {
        .object([
            "code": .string(record.code.grouped), "course_id": .string(record.courseID), "mode": record.mode.map(JSONValue.string) ?? .null,
            "source": .string(record.source), "source_ref": .string(record.sourceReference), "unlimited": .bool(record.unlimited),
            "price": .string(Money.format(record.price)), "currency": record.currency.map(JSONValue.string) ?? .null,
            "state": .string(record.state.rawValue), "created_at": .string(Timestamp.format(record.createdAt)),
            "void_reason": record.voidReason.map(JSONValue.string) ?? .null,
            "redemptions": .array(record.redemptions.map { redemption in
                .object(["email": .string(redemption.email), "at": .string(Timestamp.format(redemption.at)),
                         "job": redemption.jobID.map { .number(Double($0)) } ?? .null])
            }),
        ])
    }
}

