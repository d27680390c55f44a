import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `/api/v1/codes…`: redemption by a storefront, and the sales admins' list, read and void, with their roles.
@Suite struct CodesAPITests {
    func redemption(_ email: String) -> ByteBuffer { ByteBuffer(string: JSONValue.object(["email": .string(email)]).jsonText) }

    @Test func aStorefrontRedeemsACodeOncePerLearner() async throws {
        let harness = try ServerHarness()
        let shop = try await harness.store.createToken(name: "shop", role: .storefront)
        let code = try #require(try await harness.store.createCodes(NewCodes(count: 1, courseID: "course-v1:edX+DemoX+2026", mode: "audit",
                                                                             source: "order", sourceReference: "main:727:311")).first).code
        try await harness.test { client in
            // Typed as a learner might: lower case, no dashes.
            try await client.execute(uri: "/api/v1/codes/\(code.value.lowercased())/redemptions", method: .post, headers: bearer(shop),
                                     body: redemption(" Ada@Example.com ")) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?["status"]?.stringValue == "redeemed")
                #expect(response.json?["email"]?.stringValue == "ada@example.com")
                #expect(response.json?["course_id"]?.stringValue == "course-v1:edX+DemoX+2026")
            }
            try await client.execute(uri: "/api/v1/codes/\(code.grouped)/redemptions", method: .post, headers: bearer(shop),
                                     body: redemption("ada@example.com")) { response in
                #expect(response.status == .ok)
                #expect(response.json?["status"]?.stringValue == "already_redeemed")
            }
            try await client.execute(uri: "/api/v1/codes/\(code.grouped)/redemptions", method: .post, headers: bearer(shop),
                                     body: redemption("bo@example.com")) { response in
                #expect(response.status == .conflict)
                #expect(response.json?["error"]?.stringValue == "code_spent")
            }
            try await client.execute(uri: "/api/v1/codes/\(code.grouped)/redemptions", method: .post, headers: bearer(shop),
                                     body: redemption("bo@example.com\nforged")) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"]?.stringValue == "invalid_email")
            }
        }
        #expect(try await harness.store.jobs(JobFilter(kind: .enroll)).count == 1)
    }

    @Test func wrongCodesAreRefusedAndTheEleventhFailureInAMinuteIs429() async throws {
        let harness = try ServerHarness(clock: ManualClock(Date(timeIntervalSince1970: 1_800_000_030)))
        let shop = try await harness.store.createToken(name: "shop", role: .storefront)
        let good = try #require(try await harness.store.createCodes(NewCodes(count: 1, courseID: "course-v1:edX+DemoX+2026", mode: nil,
                                                                             source: "order", sourceReference: "r")).first).code
        try await harness.test { client in
            try await client.execute(uri: "/api/v1/codes/TOO-SHORT/redemptions", method: .post, headers: bearer(shop),
                                     body: redemption("ada@example.com")) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"]?.stringValue == "malformed_code")
            }
            for attempt in 2...10 {
                try await client.execute(uri: "/api/v1/codes/0000-0000-000\(attempt % 10)/redemptions", method: .post, headers: bearer(shop),
                                         body: redemption("ada@example.com")) { response in
                    #expect(response.status == .notFound, "attempt \(attempt): \(response.text)")
                }
            }
            // The eleventh is refused without a look, even for a good code.
            try await client.execute(uri: "/api/v1/codes/\(good.grouped)/redemptions", method: .post, headers: bearer(shop),
                                     body: redemption("ada@example.com")) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "60")
            }
        }
        #expect(try await harness.store.code(good)?.redemptions.isEmpty == true)
        #expect(try await harness.store.jobs(JobFilter()).isEmpty)
    }

    @Test func salesAdminsListReadAndVoidFinanceReadsStorefrontsNeither() async throws {
        let harness = try ServerHarness()
        let sales = try await harness.store.createToken(name: "sales", role: .salesAdmin)
        let finance = try await harness.store.createToken(name: "finance", role: .financeAdmin)
        let shop = try await harness.store.createToken(name: "shop", role: .storefront)
        let made = try await harness.store.createCodes(NewCodes(count: 2, courseID: "course-v1:edX+DemoX+2026", mode: "verified",
                                                                source: "invoice", sourceReference: "12"))
        try await harness.test { client in
            for token in [sales, finance] {
                try await client.execute(uri: "/api/v1/codes?source=invoice&source_ref=12", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == .ok)
                    #expect(response.json?["codes"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == made.reversed().map(\.code.grouped))
                }
            }
            try await client.execute(uri: "/api/v1/codes", method: .get, headers: bearer(shop)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/codes?state=lost", method: .get, headers: bearer(sales)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/codes/\(made[0].code.grouped)/void", method: .post, headers: bearer(finance),
                                     body: ByteBuffer(string: #"{"reason": "x"}"#)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/codes/\(made[0].code.grouped)/void", method: .post, headers: bearer(sales),
                                     body: ByteBuffer(string: #"{"reason": "invoice cancelled"}"#)) { response in
                #expect(response.status == .ok)
                #expect(response.json?["state"]?.stringValue == "void")
                #expect(response.json?["void_reason"]?.stringValue == "invoice cancelled")
            }
            try await client.execute(uri: "/api/v1/codes/\(made[1].code.value)", method: .get, headers: bearer(finance)) { response in
                #expect(response.status == .ok)
                #expect(response.json?["state"]?.stringValue == "active")
            }
            try await client.execute(uri: "/api/v1/codes/0000-0000-0000", method: .get, headers: bearer(sales)) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
