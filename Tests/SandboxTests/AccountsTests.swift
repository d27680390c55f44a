import Foundation
import Sandbox
import Testing

@Suite struct AccountsTests {
    @Test func lookupByEmailReturnsAList() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.api(.get, "/api/user/v1/accounts?email=ALICE%40example.com", token: token)
            #expect(result.status == 200)
            let accounts = try #require(result.json?.arrayValue)
            #expect(accounts.count == 1)
            #expect(accounts.first?["username"] == "alice")
            #expect(accounts.first?["email"] == "alice@example.com")
            #expect(accounts.first?["name"] == "Alice A")
            #expect(accounts.first?["is_active"] == true)
        }
    }

    @Test func unknownEmailIs404WithEmptyBody() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let result = try await h.api(.get, "/api/user/v1/accounts?email=nobody%40example.com", token: token)
            #expect(result.status == 404)
            #expect(result.body.isEmpty)
        }
    }

    @Test func plusInQueryMustBeEncodedAsInDjango() async throws {
        try await Harness.run { h in
            let token = try await h.token()
            let encoded = try await h.api(.get, "/api/user/v1/accounts?email=\(queryEncode("carol+tag@example.com"))", token: token)
            #expect(encoded.status == 200)
            #expect(encoded.json?.arrayValue?.first?["username"] == "carol")
            // A raw `+` decodes to a space, as Django's QueryDict does.
            let raw = try await h.api(.get, "/api/user/v1/accounts?email=carol+tag@example.com", token: token)
            #expect(raw.status == 404)
        }
    }
}
