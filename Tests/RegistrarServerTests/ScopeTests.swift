import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarStore
import TestSupport
import Testing

/// Tokens scoped to course prefixes: lists filtered, anything else refused with 403, nothing changed.
@Suite struct ScopeTests {
    @Test func theScopeRule() {
        #expect(CourseScope.covers(nil, courseID: "course-v1:edX+DemoX+2026"))
        #expect(CourseScope.covers(["course-v1:edX+"], courseID: "course-v1:edX+DemoX+2026"))
        #expect(!CourseScope.covers(["course-v1:MITx+"], courseID: "course-v1:edX+DemoX+2026"))
        #expect(!CourseScope.covers([], courseID: "course-v1:edX+DemoX+2026"))
        #expect(CourseScope.problem("course-v1:MITx+") == nil)
        #expect(CourseScope.problem("MITx")?.contains("must begin a course key") == true)
        #expect(CourseScope.problem("course-v1:") != nil)
        #expect(CourseScope.problem("course-v1:a b") != nil)
    }

    @Test func scopedTokensSeeAndTouchOnlyTheirCourses() async throws {
        let harness = try ServerHarness()
        let store = harness.store
        let edx = try await store.createToken(name: "edx-sales", role: .salesAdmin, scope: ["course-v1:edX+"])
        let mitShop = try await store.createToken(name: "mit-shop", role: .storefront, scope: ["course-v1:MITx+"])
        #expect(try await store.tokens().first { $0.name == "edx-sales" }?.scope == ["course-v1:edX+"])
        let ours = try await store.createCodes(NewCodes(count: 1, courseID: "course-v1:edX+DemoX+2026", mode: nil, source: "invoice", sourceReference: "1"))
        let theirs = try await store.createCodes(NewCodes(count: 1, courseID: "course-v1:MITx+6.00x+2026", mode: nil, source: "invoice", sourceReference: "2"))
        try await harness.test { client in
            try await client.execute(uri: "/api/v1/codes", method: .get, headers: bearer(edx)) { response in
                #expect(response.json?["codes"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == [ours[0].code.grouped])
            }
            try await client.execute(uri: "/api/v1/codes/\(theirs[0].code.grouped)", method: .get, headers: bearer(edx)) { response in
                #expect(response.status == .forbidden)
                #expect(response.json?["error"]?.stringValue == "out_of_scope")
            }
            try await client.execute(uri: "/api/v1/codes/\(theirs[0].code.grouped)/void", method: .post, headers: bearer(edx)) { response in
                #expect(response.status == .forbidden)
            }
            // A storefront of MITx cannot redeem an edX code, nor sell an edX seat.
            try await client.execute(uri: "/api/v1/codes/\(ours[0].code.grouped)/redemptions", method: .post, headers: bearer(mitShop),
                                     body: ByteBuffer(string: #"{"email": "ada@example.com"}"#)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/orders", method: .post, headers: bearer(mitShop),
                                     body: OrdersAPITests.orderBody(email: "ada@example.com", reference: "S-1")) { response in
                #expect(response.status == .forbidden, "\(response.text)")
                #expect(response.json?["error"]?.stringValue == "out_of_scope")
            }
        }
        #expect(try await store.code(theirs[0].code)?.state == .active)
        #expect(try await store.code(ours[0].code)?.redemptions.isEmpty == true)
        #expect(try await store.order(reference: "S-1") == nil)
    }
}
