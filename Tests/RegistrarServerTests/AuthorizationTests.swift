import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
@testable import RegistrarServer
import RegistrarStore
import TestSupport
import Testing

/// Every API route group admits its roles through middleware: no token, a dead token, a token of the wrong role
/// are refused before any route runs.
@Suite struct AuthorizationTests {
    /// Checks the answer's status and error code, written "401 missing_token" (or "200").
    func expect(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String?,
                _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let answer = try await status(client, method, uri, token)
        #expect(answer == expected || (!expected.contains(" ") && answer.hasPrefix(expected)), "\(method) \(uri): \(answer)",
                sourceLocation: sourceLocation)
    }

    func status(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String?) async throws
        -> String {
        try await client.execute(uri: uri, method: method, headers: token.map(bearer) ?? [:]) { response in
            "\(response.status.code)" + (response.json?["error"]?.stringValue.map { " " + $0 } ?? "")
        }
    }

    @Test func eachRouteGroupAdmitsOnlyItsRoles() async throws {
        let harness = try ServerHarness()
        let ops = try await harness.store.createToken(name: "ops", role: .ops)
        let shop = try await harness.store.createToken(name: "shop", role: .storefront)
        let finance = try await harness.store.createToken(name: "fin", role: .financeAdmin)
        let sales = try await harness.store.createToken(name: "sales", role: .salesAdmin)
        let revoked = try await harness.store.createToken(name: "gone", role: .ops)
        try await harness.store.revokeToken(name: "gone")
        try await harness.test { client in
            try await expect(client, .get, "/api/v1/jobs", nil, "401 missing_token")
            try await expect(client, .get, "/api/v1/jobs", "rgt_nonsense", "401 bad_token")
            try await expect(client, .get, "/api/v1/jobs", revoked, "401 bad_token")
            try await expect(client, .get, "/api/v1/jobs", shop, "403 wrong_role")
            try await expect(client, .get, "/api/v1/jobs", sales, "403 wrong_role")
            try await expect(client, .get, "/api/v1/jobs", ops, "200")
            try await expect(client, .get, "/api/v1/deliveries/1", finance, "403 wrong_role")
            try await expect(client, .post, "/api/v1/jobs/replay", shop, "403 wrong_role")
            // Orders: storefronts register; storefronts, operators and finance read.
            try await expect(client, .post, "/api/v1/orders", ops, "403 wrong_role")
            try await expect(client, .post, "/api/v1/orders", nil, "401 missing_token")
            for token in [shop, ops, finance] {
                try await expect(client, .get, "/api/v1/orders/NOPE", token, "404 unknown_order")
            }
            try await expect(client, .get, "/api/v1/orders/NOPE", sales, "403 wrong_role")
            // Intake and health need no token.
            try await expect(client, .get, "/healthz", nil, "200")
        }
    }

    @Test func aRefusalNamesTheTokenAndTheRolesNeeded() async throws {
        let harness = try ServerHarness()
        let shop = try await harness.store.createToken(name: "shop-1", role: .storefront)
        try await harness.test { client in
            try await client.execute(uri: "/api/v1/jobs", method: .get, headers: bearer(shop)) { response in
                #expect(response.json?["message"]?.stringValue == "token shop-1 has role storefront; this needs ops, viewer")
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            }
        }
    }

    /// The audit trail names the token the middleware authenticated.
    @Test func actionsAreAuditedUnderTheTokensName() async throws {
        let harness = try ServerHarness()
        let ops = try await harness.store.createToken(name: "night-shift", role: .ops)
        let id = try #require(try await harness.store.enqueue([NewJob(kind: .enroll, dedupeKey: "k", payload: "{}", source: "t")])
            .jobs.first?.id)
        try await harness.test { client in
            try await client.execute(uri: "/api/v1/jobs/\(id)/cancel", method: .post, headers: bearer(ops)) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(try await harness.store.jobDetail(id: id)?.actions.map(\.actor) == ["api:night-shift"])
    }

    /// Tokens found are remembered for a second (a storefront's burst reads its token once): a token revoked
    /// while in use is refused within that second, and an unknown one is never remembered.
    @Test func aTokenRevokedWhileInUseIsRefusedWithinASecond() async throws {
        let harness = try ServerHarness()
        let ops = try await harness.store.createToken(name: "ops", role: .ops)
        try await harness.test { client in
            try await expect(client, .get, "/api/v1/jobs", ops, "200")
            try await harness.store.revokeToken(name: "ops")
            let revokedAt = ContinuousClock.now
            var answer = try await status(client, .get, "/api/v1/jobs", ops)
            while answer == "200", ContinuousClock.now - revokedAt < .seconds(20) {
                try await Task.sleep(for: .milliseconds(50))
                answer = try await status(client, .get, "/api/v1/jobs", ops)
            }
            #expect(answer == "401 bad_token")
            // Remembered for 1 s; the rest of the bound is for a machine busy with the whole suite.
            #expect(ContinuousClock.now - revokedAt < .seconds(5), "refused soon after the second the token is remembered")
        }
    }

    @Test func rememberedTokensExpireAndUnknownOnesAreNotKept() {
        let recent = RecentTokens(lifetime: .milliseconds(50))
        let token = APIToken(name: "shop", role: .storefront, createdAt: Date(), revokedAt: nil)
        recent.remember(token, hash: "h")
        #expect(recent.token(hash: "h") == token)
        #expect(recent.token(hash: "other") == nil)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(recent.token(hash: "h") == nil)
    }
}
