import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarSQLite
import RegistrarStore
import TestSupport
import Testing

/// `registrar store copy --to postgres://…`: an SQLite database moved into an empty PostgreSQL one, every table
/// checked, and the copy working as the original did.
@Suite struct StoreCopyCLITests {
    @Test func aDatabaseIsCopiedCheckedAndWorksTheSameOnPostgreSQL() async throws {
        guard let server = ProcessInfo.processInfo.environment["REGISTRAR_TEST_POSTGRES"] else {
            throw PostgresURL.Invalid("REGISTRAR_TEST_POSTGRES is not set: run the tests as `scripts/with-postgres swift test`")
        }
        let dir = try TemporaryDirectory()
        let database = dir.file("registrar.sqlite")
        let sqlite = try openStore(dir)
        // A little of everything: deliveries (one of raw bytes), jobs run and failed, attempts, a pruned job,
        // an audited replay, a token, a cached learner, codes and a redemption, a contract, a price and a coupon.
        let course = "course-v1:edX+DemoX+2026"
        let enqueued = try await sqlite.enqueue([job("order:A:1", serial: "ann@example.com|\(course)", payload: #"{"email": "ann@example.com"}"#),
                                                 job("order:A:2"), job("old")],
                                                delivery: NewDelivery(source: "woocommerce", channel: "main", headers: ["x-wc-webhook-topic": "order.updated"],
                                                                      body: Array(#"{"id": 1}"#.utf8), verdict: "accepted", httpStatus: 200))
        _ = try await sqlite.recordDelivery(NewDelivery(source: "woocommerce", body: [0, 255, 13, 10], verdict: "rejected", httpStatus: 401))
        for claimed in try await sqlite.claim(owner: "w", limit: 10) {
            try await sqlite.finish(claimed, outcome: claimed.job.dedupeKey == "order:A:2" ? .permanent(reason: "no such course") : .success())
        }
        _ = try await sqlite.replay(ids: [enqueued.jobs[1].id], actor: "cli:alice")
        let bearer = try await sqlite.createToken(name: "shop", role: .storefront, scope: [course], maySetPrices: true)
        try await sqlite.cacheUsername("ann", email: "ann@example.com")
        let codes = try await sqlite.createCodes(NewCodes(count: 3, courseID: course, mode: "verified", source: "order", sourceReference: "main:727:311"))
        _ = try await sqlite.redeem(codes[0].code, email: "bo@example.com")
        let org = try await sqlite.createOrganization(name: "Acme", key: "Acme")
        _ = try await sqlite.createContract(NewContract(organizationID: org.id, name: "Acme 2027", description: nil,
                                                        terms: ContractTerms(integration: .nonSSO, maxLearners: 5), createdBy: "t"))
        _ = try await sqlite.setPrice(ListedPrice(courseID: course, mode: "verified", currency: "USD", price: 49), actor: "t")
        try await sqlite.createCoupon(Coupon(code: "WELCOME10", kind: .percent(10), courses: [], expires: nil, maxUses: 3, active: true),
                                      description: "ten off", actor: "t")
        // The newest job pruned: its id must never be given again.
        #expect(try await sqlite.pruneSucceeded(olderThan: .zero) == 2)
        let sourceJobs = try await sqlite.jobs(JobFilter(limit: 100))

        let name = "copy_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let url = try await PostgresAdmin.createDatabase(name, on: try PostgresURL.parse(server))
        let copied = try await runRegistrar(["store", "copy", "--to", url.description, "--batch", "2"], database: database)
        #expect(copied.status == 0 && copied.output.contains("every table checked"), "\(copied.output)")
        #expect(copied.output.contains("jobs") && !copied.output.contains("DIFFERS"), "\(copied.output)")

        let postgres = try await PostgresStore.open(url, options: StoreOptions(jobs: JobsConfig()))
        defer { postgres.close() }
        let copiedJobs = try await postgres.jobs(JobFilter(limit: 100))
        #expect(copiedJobs.map(\.id) == sourceJobs.map(\.id) && copiedJobs.map(\.state) == sourceJobs.map(\.state))
        #expect(copiedJobs.map(\.dedupeKey) == sourceJobs.map(\.dedupeKey))
        #expect(try await postgres.authenticate(bearer: bearer)?.maySetPrices == true, "the copied token does not sign in")
        #expect(try await postgres.cachedUsername(email: "ann@example.com") == "ann")
        #expect(try await postgres.code(codes[0].code)?.redemptions.map(\.email) == ["bo@example.com"])
        #expect(try await postgres.coupon(code: "welcome10")?.description == "ten off")
        #expect(try await postgres.contracts(organization: "Acme").map(\.name) == ["Acme 2027"])
        #expect(try await postgres.jobDetail(id: enqueued.jobs[1].id)?.actions.map(\.actor) == ["cli:alice"])
        // The copy goes on where the original left off: new ids after the old ones, old keys still taken.
        let again = try await postgres.enqueue([job("order:A:1"), job("new")])
        #expect(again.jobs[0].created == false && again.jobs[0].id == enqueued.jobs[0].id)
        #expect(again.jobs[1].created && again.jobs[1].id > enqueued.jobs.map(\.id).max()!, "a pruned job's id was given again")

        let refused = try await runRegistrar(["store", "copy", "--to", url.description], database: database)
        #expect(refused.status == 1 && refused.output.contains("is not empty"), "\(refused.output)")
    }
}
