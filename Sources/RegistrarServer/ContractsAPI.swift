import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarStore

/// `/api/v1/orgs` and `/api/v1/contracts…` for sales admins: what `registrar orgs` and `registrar contracts` do,
/// with the CLI's option names in snake case. In a PATCH a key set to null removes that term.
struct ContractsAPI: Sendable {
    let store: any ContractBook & CodeBook
    let config: RegistrarConfig
    let clock: any WallClock
    let logger: Logger

    func register(_ api: RouterGroup<RegistrarRequestContext>, maxBody: Int) {
        let orgs = api.group("orgs").add(middleware: RequireRole(.salesAdmin))
        orgs.get { _, _ -> Response in
            await answer { (.ok, .object(["organizations": .array(try await store.organizations().map(ContractJSON.json))])) }
        }
        orgs.post { request, _ -> Response in
            await withBody(request, maxBody) { body in
                guard let name = body["name"]?.stringValue, let key = body["key"]?.stringValue else {
                    return Self.problem(.badRequest, "invalid_organization", "expected {\"name\": …, \"key\": …}")
                }
                return (.created, ContractJSON.json(try await store.createOrganization(name: name, key: key)))
            }
        }
        let contracts = api.group("contracts").add(middleware: RequireRole(.salesAdmin))
        contracts.get { request, context -> Response in
            await answer {
                // A scoped token sees only contracts whose runs are all within its courses.
                let found = try await store.contracts(organization: request.uri.queryParameters.get("organization"))
                    .filter { Self.covers(context.identity, $0) }
                return (.ok, .object(["contracts": .array(found.map { ContractJSON.json($0, now: clock.now()) })]))
            }
        }
        contracts.post { request, context -> Response in
            await withBody(request, maxBody) { body in try await create(body, actor: context.identity?.name ?? "api") }
        }
        contracts.get(":id") { _, context -> Response in
            await answer { (.ok, ContractJSON.json(try await contract(context), now: clock.now())) }
        }
        contracts.patch(":id") { request, context -> Response in
            await withBody(request, maxBody) { body in
                let id = try await contract(context).id
                let changes = try Self.changes(body)
                return (.ok, ContractJSON.json(try await store.modifyContract(id, changes, actor: context.identity?.name ?? "api"), now: clock.now()))
            }
        }
        contracts.post(":id/courseware") { request, context -> Response in
            await withBody(request, maxBody) { body in
                let contract = try await contract(context)
                guard let courses = body["courses"]?.arrayValue?.compactMap(\.stringValue), !courses.isEmpty else {
                    return Self.problem(.badRequest, "invalid_courseware", "expected {\"courses\": [\"18.01x\", …]}")
                }
                let actor = context.identity?.name ?? "api"
                if body["remove"] == .bool(true) {
                    let runs = try await store.removeCourseware(contract.id, courses: courses, actor: actor)
                    return (.ok, .object(["runs": .array(runs.map(Self.runJSON))]))
                }
                let attach = body["create_runs"] == .bool(false)
                switch ContractCourseware.requests(courses, contract: contract, config: config.contracts, attach: attach, now: clock.now()) {
                case .failure(let problem): return Self.problem(.badRequest, "invalid_courseware", problem.message)
                case .success(let requests):
                    if let token = context.identity, let outside = requests.first(where: { !token.covers($0.courseID) }) {
                        return Self.problem(.forbidden, "out_of_scope", "this token is not allowed \(outside.courseID)")
                    }
                    let runs = try await store.addCourseware(contract.id, runs: requests, actor: actor)
                    return (.created, .object(["runs": .array(runs.map(Self.runJSON))]))
                }
            }
        }
        contracts.get(":id/codes.csv") { _, context -> Response in
            do {
                let contract = try await contract(context)
                let codes = try await store.codes(CodeFilter(source: "contract", sourceReference: String(contract.id), limit: 10_000_000))
                var headers = HTTPFields()
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"\(ContractCodesCSV.fileName(contract: contract.id))\""
                return Response(status: .ok, headers: headers,
                                body: .init(byteBuffer: ByteBuffer(string: ContractJSON.codesCSV(codes, publicURL: config.server.publicURL))))
            } catch { return Self.failure(error, logger: logger) }
        }
        contracts.get(":id/learners") { _, context -> Response in
            await answer { (.ok, .object(["learners": .array(try await store.learners(of: try await contract(context).id).map(ContractJSON.json))])) }
        }
        for method in [HTTPRequest.Method.post, .delete] {
            contracts.on(":id/learners", method: method) { request, context -> Response in
                await withBody(request, maxBody) { body in
                    let id = try await contract(context).id
                    guard let emails = body["emails"]?.arrayValue?.compactMap(\.stringValue), !emails.isEmpty else {
                        return Self.problem(.badRequest, "invalid_learners", "expected {\"emails\": [\"…\"]}")
                    }
                    if let bad = emails.first(where: { EmailAddressRule.problem($0) != nil }) {
                        return Self.problem(.badRequest, "invalid_email", "\(bad): \(EmailAddressRule.problem(bad) ?? "")")
                    }
                    let actor = context.identity?.name ?? "api"
                    let normalized = emails.map(normalizedEmail)
                    let jobs = method == .post ? try await store.attach(id, emails: normalized, actor: actor)
                        : try await store.detach(id, emails: normalized, actor: actor)
                    return (.ok, .object(["status": .string(method == .post ? "attached" : "detached"),
                                          "jobs": .array(jobs.map { .number(Double($0.id)) })]))
                }
            }
        }
    }

    func create(_ body: JSONValue, actor: String) async throws -> (HTTPResponse.Status, JSONValue) {
        guard let orgName = body["organization"]?.stringValue, let name = body["name"]?.stringValue,
              let integrationText = body["integration"]?.stringValue else {
            return Self.problem(.badRequest, "invalid_contract", "expected {\"organization\", \"name\", \"integration\": \"sso\"|\"non-sso\", …}")
        }
        guard let integration = ContractIntegration(rawValue: integrationText) else {
            return Self.problem(.badRequest, "invalid_contract", "integration is sso or non-sso, not \(integrationText)")
        }
        // A field of the wrong type is refused, not dropped: a cap sent as "200" must not make the contract uncapped.
        func field<T>(_ key: String, _ read: (JSONValue) -> T?) throws -> T? {
            guard let value = body[key], value != .null else { return nil }
            guard let read = read(value) else { throw ContractError.invalid("\(key) has the wrong type") }
            return read
        }
        var terms = ContractTerms(integration: integration, start: try field("start") { $0.stringValue }, end: try field("end") { $0.stringValue },
                                  maxLearners: try field("max_learners") { $0.wholeNumber },
                                  currency: try field("currency") { $0.stringValue }?.uppercased())
        if let price = try field("price", { $0.stringValue ?? $0.numberText }) {
            guard let value = Money.parse(price) else { return Self.problem(.badRequest, "invalid_contract", "price \(price) is not a decimal amount") }
            terms.price = value
        }
        let description: String? = try field("description") { $0.stringValue }
        if let problem = terms.problem { return Self.problem(.badRequest, "invalid_contract", problem) }
        var org = try await store.organization(named: orgName)
        if org == nil, body["create_org"] == .bool(true), let key = body["key"]?.stringValue {
            org = try await store.createOrganization(name: orgName, key: key)
        }
        guard let org else {
            return Self.problem(.unprocessableContent, "unknown_organization",
                            "no organization \(orgName): send \"create_org\": true with its \"key\", or POST /api/v1/orgs first")
        }
        let contract = try await store.createContract(NewContract(organizationID: org.id, name: name, description: description,
                                                                  terms: terms, createdBy: actor))
        return (.created, ContractJSON.json(contract, now: clock.now()))
    }

    /// A PATCH body's changes: absent keys stay, null removes.
    static func changes(_ body: JSONValue) throws -> ContractChanges {
        func optional<T>(_ key: String, _ read: (JSONValue) -> T?) throws -> T?? {
            guard let value = body[key] else { return nil }
            if value == .null { return .some(nil) }
            guard let read = read(value) else { throw ContractError.invalid("\(key) has the wrong type") }
            return .some(read)
        }
        var changes = ContractChanges()
        changes.start = try optional("start") { $0.stringValue }
        changes.end = try optional("end") { $0.stringValue }
        changes.maxLearners = try optional("max_learners") { $0.wholeNumber }
        changes.price = try optional("price") { ($0.stringValue ?? $0.numberText).flatMap(Money.parse) }
        changes.currency = body["currency"]?.stringValue?.uppercased()
        if case .bool(let active)? = body["active"] { changes.active = active }
        changes.description = body["description"]?.stringValue
        return changes
    }

    /// A refusal as the answer's status and `{"error", "message"}`.
    static func problem(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> (HTTPResponse.Status, JSONValue) {
        (status, .object(["error": .string(code), "message": .string(message)]))
    }

    static func runJSON(_ run: ContractRun) -> JSONValue {
        .object(["course_id": .string(run.courseID), "source_id": run.sourceID.map(JSONValue.string) ?? .null,
                 "state": .string(run.state.rawValue), "attached": .bool(run.attached)])
    }

    /// The contract the path names, if the token may see it.
    func contract(_ context: RegistrarRequestContext) async throws -> Contract {
        guard let text = context.parameters.get("id"), let id = Int64(text), let found = try await store.contract(id) else {
            throw ContractError.unknownContract(Int64(context.parameters.get("id") ?? "") ?? 0)
        }
        guard Self.covers(context.identity, found) else { throw OutOfScope(courseID: found.runs.first { !(context.identity?.covers($0.courseID) ?? true) }?.courseID ?? "") }
        return found
    }

    struct OutOfScope: Error { var courseID: String }

    /// A scoped token covers a contract whose runs are all within its courses.
    static func covers(_ token: APIToken?, _ contract: Contract) -> Bool {
        guard let token else { return true }
        return contract.runs.allSatisfy { token.covers($0.courseID) }
    }

    func answer(_ work: () async throws -> (HTTPResponse.Status, JSONValue)) async -> Response {
        do {
            let (status, json) = try await work()
            return JSONResponse.make(status, json: json)
        } catch { return Self.failure(error, logger: logger) }
    }

    func withBody(_ request: Request, _ maxBody: Int, _ work: (JSONValue) async throws -> (HTTPResponse.Status, JSONValue)) async -> Response {
        guard case .bytes(let bytes) = await RegistrarHTTPServer.collectBody(request, limit: maxBody) else {
            return JSONResponse.error(.contentTooLarge, code: "too_large", message: "the body is too large or unreadable")
        }
        guard let body = try? JSONValue.parse(bytes: bytes), case .object = body else {
            return JSONResponse.error(.badRequest, code: "malformed_json", message: "the body is not a JSON object")
        }
        return await answer { try await work(body) }
    }

    static func failure(_ error: any Error, logger: Logger) -> Response {
        if let outside = error as? OutOfScope {
            return JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(outside.courseID)")
        }
        switch error as? ContractError {
        case .unknownContract?: return JSONResponse.error(.notFound, code: "unknown_contract", message: "\(error)")
        case .unknownOrganization?: return JSONResponse.error(.unprocessableContent, code: "unknown_organization", message: "\(error)")
        case .organizationTaken?: return JSONResponse.error(.conflict, code: "organization_exists", message: "\(error)")
        case .runOwned?: return JSONResponse.error(.conflict, code: "run_owned", message: "\(error)")
        case .invalid?: return JSONResponse.error(.badRequest, code: "invalid_contract", message: "\(error)")
        case .full?: return JSONResponse.error(.conflict, code: "contract_full", message: "\(error)")
        case nil:
            logger.error("contracts API failed", metadata: ["error": "\(error)"])
            return JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
        }
    }
}

private extension JSONValue {
    /// A JSON number that is a whole number.
    var wholeNumber: Int? {
        guard case .number(let value) = self, value == value.rounded(), abs(value) < 1e15 else { return nil }
        return Int(value)
    }

    /// A JSON number as decimal text ("49" or "49.5"), for amounts sent unquoted.
    var numberText: String? {
        guard case .number(let value) = self else { return nil }
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
