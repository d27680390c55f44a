import CurlHTTP
import Foundation
import RegistrarCore
import RegistrarStore
import Sandbox
import TestSupport
import Testing

/// `registrar serve` and its CLI against the sandbox LMS and Studio, for contracts.
final class ContractSetup: Sendable {
    let dir: TemporaryDirectory
    let sandbox: RunningSandbox
    let serve: ServeProcess
    let http = CurlHTTPClient()
    let configPath: String
    let databasePath: String
    let storefront: String

    init() async throws {
        dir = try TemporaryDirectory()
        sandbox = try await startSandbox()
        databasePath = dir.path + "/registrar.sqlite"
        configPath = dir.path + "/registrar.yaml"
        try """
            database: \(databasePath)
            server: {host: 127.0.0.1, port: 0, public_url: "https://learn.example.com"}
            openedx: {lms_url: \(sandbox.baseURL), studio_url: \(sandbox.baseURL), client_secret: sandbox-secret}
            cybersource:
              profiles:
                "0000001": {access_key: access-key-1, secret_key: cs-profile-secret}
            contracts: {org_prefix: UAI_, source_org: UAI_SOURCE, source_run: SOURCE}
            codes: {redeem_failures_per_minute: 1000}
            jobs: {backoff_base_seconds: 0.05, backoff_cap_seconds: 0.5, poll_interval_seconds: 0.1}
            logging: {level: debug}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let created = try await runRegistrar(["tokens", "create", "--name", "shop", "--role", "storefront", "--config", configPath],
                                             workingDirectory: dir.path)
        storefront = created.output.split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init) ?? ""
        serve = try ServeProcess(configPath: configPath, workingDirectory: dir.path)
    }

    func cli(_ arguments: [String]) async throws -> ProcessResult {
        try await runRegistrar(arguments + ["--config", configPath], workingDirectory: dir.path)
    }

    func store() throws -> any RegistrarStorage { try openStore(databasePath) }

    func settle(timeout: Duration = .seconds(30)) async throws {
        try await settleJobs(try store(), serve: serve, timeout: timeout)
    }

    func redeem(_ code: RegistrationCode, _ email: String) async throws -> (status: Int, json: JSONValue) {
        let response = try await http.execute(HTTPRequest(
            method: "POST", url: serve.baseURL + "/api/v1/codes/\(code.grouped)/redemptions",
            headers: ["Authorization": "Bearer \(storefront)", "Content-Type": "application/json"],
            body: Array(#"{"email": "\#(email)"}"#.utf8)))
        return (response.status, JSONValue.parse(response.bodyText) ?? .null)
    }

    func contractCodes(_ id: Int64) async throws -> [CodeRecord] {
        try await store().codes(CodeFilter(source: "contract", sourceReference: String(id), limit: 100_000))
    }

    func shutdown() async {
        #expect(serve.stop() == 0, "serve did not exit cleanly:\n\(serve.log.suffix(2000))")
        http.shutdown()
        await sandbox.stop()
    }
}

@Suite(.serialized) struct ContractsEndToEndTests {
    let year = Calendar(identifier: .gregorian).component(.year, from: Date())

    @Test func aCappedContractsRunsAreClonedAndItsCodesFollowItsTerms() async throws {
        let setup = try await ContractSetup()
        try await setup.sandbox.addCourse(SandboxSeed.Course(id: "course-v1:UAI_SOURCE+18.01x+SOURCE", title: "Calculus 1A", modes: ["audit"]))
        try await setup.sandbox.addCourse(SandboxSeed.Course(id: "course-v1:UAI_SOURCE+6.002x+SOURCE", title: "Circuits", modes: ["audit"]))
        for n in 1...6 { _ = try await setup.sandbox.addUser(username: "learner\(n)", email: "learner\(n)@acme.example.com") }

        // Bad input first: nothing is made.
        let unknownOrg = try await setup.cli(["contracts", "create", "Nobody Inc", "N", "non-sso"])
        #expect(unknownOrg.status == 1 && unknownOrg.output.contains("--create-org"), "\(unknownOrg.output)")
        let badKey = try await setup.cli(["contracts", "create", "Acme", "A", "non-sso", "--create-org", "--key", "AC ME"])
        #expect(badKey.status == 64, "\(badKey.output)")
        let backwards = try await setup.cli(["contracts", "create", "Acme", "A", "non-sso", "--create-org", "--key", "ACME",
                                             "--start", "2027-01-01", "--end", "2026-01-01"])
        #expect(backwards.status == 64 && backwards.output.contains("before"), "\(backwards.output)")
        let negative = try await setup.cli(["contracts", "create", "Acme", "A", "non-sso", "--create-org", "--key", "ACME", "--max-learners", "-1"])
        #expect(negative.status == 64, "\(negative.output)")

        let created = try await setup.cli(["contracts", "create", "Acme Corp", "Acme \(year)", "non-sso", "--create-org", "--key", "ACME",
                                           "--start", "\(year)-01-01", "--end", "\(year + 1)-12-31", "--max-learners", "3"])
        #expect(created.status == 0 && created.output.contains("contract 1:"), "\(created.output)")
        let courseware = try await setup.cli(["contracts", "courseware", "1", "18.01x", "6.002x"])
        #expect(courseware.status == 0, "\(courseware.output)")
        let runA = "course-v1:UAI_ACME+18.01x+\(year)_C1"
        let runB = "course-v1:UAI_ACME+6.002x+\(year)_C1"
        try await setup.settle()

        let shown = try await setup.cli(["contracts", "show", "1", "--json"])
        let contract = try #require(JSONValue.parse(shown.output), "\(shown.output)")
        #expect(contract["runs"]?.arrayValue?.compactMap { $0["course_id"]?.stringValue } == [runA, runB])
        #expect(contract["runs"]?.arrayValue?.allSatisfy { $0["state"]?.stringValue == "ready" } == true, "\(shown.output)")
        let studio = try await setup.http.execute(HTTPRequest(method: "GET", url: setup.sandbox.baseURL + "/__sandbox/courses"))
        let runs = (JSONValue.parse(studio.bodyText)?.arrayValue ?? []).filter { $0["id"]?.stringValue?.contains("UAI_ACME") == true }
        #expect(runs.count == 2 && runs.allSatisfy { $0["start"]?.stringValue == "\(year)-01-01T00:00:00.000Z" && $0["pacing_type"]?.stringValue == "self_paced" },
                "\(studio.bodyText)")
        #expect(runs.first { $0["id"]?.stringValue == runA }?["title"]?.stringValue == "Calculus 1A")

        var codes = try await setup.contractCodes(1)
        #expect(codes.count == 6 && codes.allSatisfy { !$0.unlimited && $0.state == .active })
        let csvPath = setup.dir.path + "/codes-1.csv"
        #expect(try await setup.cli(["contracts", "codes", "1", "--out", csvPath]).status == 0)
        let csv = try String(contentsOfFile: csvPath, encoding: .utf8)
        #expect(csv.hasPrefix("Code,Product,Redeemed,Product URL\r\n") && csv.components(separatedBy: "\r\n").count == 8, "\(csv)")
        #expect(csv.contains("\(codes[0].code.grouped),\(codes[0].courseID),No,https://learn.example.com/redeem?code=\(codes[0].code.grouped)"))

        // Three learners in: two in run A, one in run B. A fourth: the contract is full.
        let inA = codes.filter { $0.courseID == runA }
        let inB = codes.filter { $0.courseID == runB }
        #expect(try await setup.redeem(inA[0].code, "learner1@acme.example.com").status == 201)
        #expect(try await setup.redeem(inA[1].code, "learner2@acme.example.com").status == 201)
        #expect(try await setup.redeem(inB[0].code, "learner3@acme.example.com").status == 201)
        // A learner already in takes no new place: their second run is fine.
        #expect(try await setup.redeem(inB[1].code, "learner1@acme.example.com").status == 201)
        let full = try await setup.redeem(inB[2].code, "learner4@acme.example.com")
        #expect(full.status == 409 && full.json["error"]?.stringValue == "contract_full", "\(full.json)")
        try await setup.settle()
        #expect(await setup.sandbox.enrollment(username: "learner1", courseID: runA)?.isActive == true)
        #expect(await setup.sandbox.enrollment(username: "learner3", courseID: runB)?.isActive == true)

        // The cap lowered to 2: unredeemed surplus goes, nobody is removed, the contract is over its cap.
        #expect(try await setup.cli(["contracts", "modify", "1", "--max-learners", "2"]).status == 0)
        try await setup.settle()
        codes = try await setup.contractCodes(1)
        #expect(codes.filter { $0.courseID == runA && $0.state != .void }.count == 2, "run A: its two redeemed codes")
        #expect(codes.filter { $0.courseID == runB && $0.state != .void }.count == 2, "run B: two redeemed, the unredeemed one void")
        #expect(codes.filter { $0.state == .void }.allSatisfy { $0.redemptions.isEmpty })
        let over = try #require(JSONValue.parse(try await setup.cli(["contracts", "show", "1", "--json"]).output))
        #expect(over["over_cap"] == .bool(true) && over["learners"] == .number(3))
        #expect(summary(await setup.sandbox.ledger()).filter { $0.hasPrefix("unenroll") }.isEmpty)

        // No cap: every run gets an unlimited code; a price: its redemption is a payable order.
        #expect(try await setup.cli(["contracts", "modify", "1", "--no-learner-cap"]).status == 0)
        try await setup.settle()
        codes = try await setup.contractCodes(1)
        for run in [runA, runB] {
            #expect(codes.contains { $0.courseID == run && $0.unlimited && $0.state == .active }, "\(run) has an unlimited code")
        }
        #expect(try await setup.cli(["contracts", "modify", "1", "--price", "49.00", "--currency", "USD"]).status == 0)
        try await setup.settle()
        let open = try #require(try await setup.contractCodes(1).first { $0.courseID == runB && $0.unlimited && $0.state == .active })
        #expect(open.price == 49)
        let priced = try await setup.redeem(open.code, "learner5@acme.example.com")
        #expect(priced.status == 402 && priced.json["order"]?["total"]?.stringValue == "49.00", "\(priced.json)")

        // Inactive: codes stay, redemption says so.
        #expect(try await setup.cli(["contracts", "modify", "1", "--inactive"]).status == 0)
        let inactive = try await setup.redeem(open.code, "learner6@acme.example.com")
        #expect(inactive.status == 409 && inactive.json["error"]?.stringValue == "contract_inactive", "\(inactive.json)")
        await setup.shutdown()
    }

    @Test func anSSOContractAttachesLearnersToEveryRunAndAStudioFailureMakesOneRun() async throws {
        let setup = try await ContractSetup()
        try await setup.sandbox.addCourse(SandboxSeed.Course(id: "course-v1:UAI_SOURCE+18.01x+SOURCE", title: "Calculus 1A", modes: ["audit"]))
        try await setup.sandbox.addCourse(SandboxSeed.Course(id: "course-v1:UAI_SOURCE+6.002x+SOURCE", title: "Circuits", modes: ["audit"]))
        _ = try await setup.sandbox.addUser(username: "sam", email: "sam@beta.example.com")

        // A priced SSO contract has codes; without its price they go.
        #expect(try await setup.cli(["contracts", "create", "Beta Labs", "Beta", "sso", "--create-org", "--key", "BETA",
                                     "--price", "99", "--currency", "USD"]).status == 0)
        // Studio answers 500 for a while: the clone is retried, and made once.
        await setup.sandbox.setFaults(failRate: 1, kinds: [.serverError])
        #expect(try await setup.cli(["contracts", "courseware", "1", "18.01x"]).status == 0)
        let store = try setup.store()
        #expect(try await waitUntil(timeout: .seconds(20)) {
            try await store.jobs(JobFilter(kind: .clone)).first.map { $0.attempts >= 2 } ?? false
        })
        await setup.sandbox.setFaults(failRate: 0)
        try await setup.settle()
        let runA = "course-v1:UAI_BETA+18.01x+\(year)_C1"
        #expect(summary(await setup.sandbox.ledger()).filter { $0.hasPrefix("clone") } == ["clone - \(runA)"])
        #expect(try await setup.contractCodes(1).filter { $0.state == .active && $0.unlimited }.count == 1)
        #expect(try await setup.cli(["contracts", "modify", "1", "--no-price"]).status == 0)
        try await setup.settle()
        #expect(try await setup.contractCodes(1).allSatisfy { $0.state == .void }, "SSO, free, uncapped: no codes")

        // Attached: enrolled in every run, and in a run added later; detached: unenrolled.
        let attached = try await setup.cli(["contracts", "attach", "1", "--email", "Sam@Beta.example.com"])
        #expect(attached.status == 0, "\(attached.output)")
        #expect(try await setup.cli(["contracts", "courseware", "1", "6.002x"]).status == 0)
        try await setup.settle()
        let runB = "course-v1:UAI_BETA+6.002x+\(year)_C1"
        #expect(await setup.sandbox.enrollment(username: "sam", courseID: runA)?.isActive == true)
        #expect(await setup.sandbox.enrollment(username: "sam", courseID: runB)?.isActive == true)
        let learners = try await setup.cli(["contracts", "learners", "1", "--json"])
        #expect(JSONValue.parse(learners.output)?.arrayValue?.first?["email"]?.stringValue == "sam@beta.example.com")

        // A run of this contract cannot join another (409 in the API; the CLI names the owner).
        #expect(try await setup.cli(["contracts", "create", "Beta Labs", "Other", "non-sso"]).status == 0)
        let owned = try await setup.cli(["contracts", "courseware", "2", runA, "--no-create-runs"])
        #expect(owned.status == 1 && owned.output.contains("belongs to contract 1"), "\(owned.output)")

        #expect(try await setup.cli(["contracts", "detach", "1", "--email", "sam@beta.example.com"]).status == 0)
        try await setup.settle()
        #expect(await setup.sandbox.enrollment(username: "sam", courseID: runA)?.isActive == false)
        await setup.shutdown()
    }
}
