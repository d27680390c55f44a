import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// `/api/v1/orgs` and `/api/v1/contracts…`: the CLI's contract operations for sales admins, refusals named.
@Suite struct ContractsAPITests {
    func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func salesAdminsManageContractsAndEveryoneElseIsRefused() async throws {
        let harness = try ServerHarness()
        let sales = try await harness.store.createToken(name: "sales", role: .salesAdmin)
        let shop = try await harness.store.createToken(name: "shop", role: .storefront)
        let scoped = try await harness.store.createToken(name: "mitx-sales", role: .salesAdmin, scope: ["course-v1:MITx+"])
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        try await harness.test { client in
            var headers = bearer(sales)
            headers[.contentType] = "application/json"
            try await client.execute(uri: "/api/v1/contracts", method: .get, headers: bearer(shop)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/contracts", method: .post, headers: headers,
                                     body: json(#"{"organization": "Acme", "name": "A", "integration": "non-sso"}"#)) { response in
                #expect(response.status == .unprocessableContent && response.json?["error"]?.stringValue == "unknown_organization")
            }
            try await client.execute(uri: "/api/v1/orgs", method: .post, headers: headers, body: json(#"{"name": "Acme", "key": "AC ME"}"#)) { response in
                #expect(response.status == .badRequest, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/contracts", method: .post, headers: headers,
                                     body: json(#"{"organization": "Acme", "name": "A", "integration": "non-sso", "create_org": true, "key": "ACME", "start": "2027-01-02", "end": "2027-01-01"}"#)) { response in
                #expect(response.status == .badRequest && response.text.contains("before"), "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/contracts", method: .post, headers: headers,
                                     body: json(#"{"organization": "Acme", "name": "Acme 2027", "integration": "non-sso", "create_org": true, "key": "ACME", "max_learners": 2, "price": "10.00", "currency": "usd"}"#)) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?["id"] == .number(1) && response.json?["max_learners"] == .number(2) && response.json?["currency"]?.stringValue == "USD")
            }
            try await client.execute(uri: "/api/v1/contracts/1/courseware", method: .post, headers: headers,
                                     body: json(#"{"courses": ["18.01x"]}"#)) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?["runs"]?.arrayValue?.first?["course_id"]?.stringValue == "course-v1:UAI_ACME+18.01x+\(year)_C1")
                #expect(response.json?["runs"]?.arrayValue?.first?["state"]?.stringValue == "requested")
            }
            try await client.execute(uri: "/api/v1/contracts", method: .post, headers: headers,
                                     body: json(#"{"organization": "Acme", "name": "Other", "integration": "sso"}"#)) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/api/v1/contracts/2/courseware", method: .post, headers: headers,
                                     body: json(#"{"courses": ["course-v1:UAI_ACME+18.01x+\#(year)_C1"], "create_runs": false}"#)) { response in
                #expect(response.status == .conflict && response.json?["error"]?.stringValue == "run_owned", "\(response.text)")
            }
            _ = try await harness.store.syncContract(1)
            try await client.execute(uri: "/api/v1/contracts/1/codes.csv", method: .get, headers: bearer(sales)) { response in
                #expect(response.status == .ok && response.text.hasPrefix("Code,Product,Redeemed,Product URL\r\n"))
                #expect(response.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 3, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/contracts/1", method: .patch, headers: headers,
                                     body: json(#"{"max_learners": null, "price": null}"#)) { response in
                #expect(response.status == .ok && response.json?["max_learners"] == .null && response.json?["price"]?.stringValue == "0.00",
                        "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/contracts/2/learners", method: .post, headers: headers,
                                     body: json(#"{"emails": ["Sam@Example.com"]}"#)) { response in
                #expect(response.status == .ok && response.json?["status"]?.stringValue == "attached")
            }
            try await client.execute(uri: "/api/v1/contracts/2/learners", method: .get, headers: bearer(sales)) { response in
                #expect(response.json?["learners"]?.arrayValue?.first?["email"]?.stringValue == "sam@example.com")
            }
            try await client.execute(uri: "/api/v1/contracts/2/learners", method: .delete, headers: headers,
                                     body: json(#"{"emails": ["sam@example.com"]}"#)) { response in
                #expect(response.status == .ok && response.json?["status"]?.stringValue == "detached")
            }
            try await client.execute(uri: "/api/v1/contracts/9", method: .get, headers: bearer(sales)) { response in
                #expect(response.status == .notFound && response.json?["error"]?.stringValue == "unknown_contract")
            }
            try await client.execute(uri: "/api/v1/orgs", method: .get, headers: bearer(sales)) { response in
                #expect(response.json?["organizations"]?.arrayValue?.count == 1)
            }
            // A field of the wrong type is refused, not dropped.
            try await client.execute(uri: "/api/v1/contracts", method: .post, headers: headers,
                                     body: json(#"{"organization": "Acme", "name": "Typed", "integration": "non-sso", "max_learners": "200"}"#)) { response in
                #expect(response.status == .badRequest && response.text.contains("max_learners"), "\(response.text)")
            }
            // A token scoped elsewhere neither sees nor touches contract 1 (its run is UAI_ACME's).
            try await client.execute(uri: "/api/v1/contracts/1", method: .get, headers: bearer(scoped)) { response in
                #expect(response.status == .forbidden && response.json?["error"]?.stringValue == "out_of_scope", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/contracts", method: .get, headers: bearer(scoped)) { response in
                #expect(response.json?["contracts"]?.arrayValue?.compactMap { $0["id"] } == [.number(2)], "contract 2 has no run: \(response.text)")
            }
        }
        let contract = try #require(try await harness.store.contract(1))
        #expect(contract.terms.maxLearners == nil && contract.terms.price == 0)
    }
}
