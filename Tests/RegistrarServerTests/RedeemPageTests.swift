import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarServer
import Synchronization
import RegistrarStore
import TestSupport
import Testing

/// `/redeem`: the learner's page, without a token, as a browser without JavaScript uses it.
@Suite struct RedeemPageTests {
    func form(_ fields: [(String, String)]) -> ByteBuffer { ByteBuffer(string: FormEncoding.encode(fields)) }
    var formHeaders: HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = "application/x-www-form-urlencoded"
        return fields
    }

    @Test func theFormIsPlainAccessibleHTMLAndEchoesNothingAsMarkup() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            try await client.execute(uri: "/redeem?code=7KQ2-M9XD-4HTR", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                let page = response.text
                #expect(page.contains(#"<html lang="en">"#))
                #expect(page.contains(#"<label for="code">Code</label>"#) && page.contains(#"<label for="email">Email address</label>"#))
                #expect(page.contains(#"value="7KQ2-M9XD-4HTR""#))
                #expect(!page.contains("<script"))
            }
            try await client.execute(uri: "/redeem?code=%22%3E%3Cscript%3Ealert(1)%3C/script%3E", method: .get) { response in
                #expect(!response.text.contains("<script>"))
                #expect(response.text.contains("&quot;&gt;&lt;script&gt;"))
            }
        }
    }

    @Test func aLearnerRedeemsAndReadsWhatHappensNext() async throws {
        let harness = try ServerHarness()
        let code = try #require(try await harness.store.createCodes(NewCodes(count: 1, courseID: "course-v1:edX+DemoX+2026", mode: "audit",
                                                                             source: "order", sourceReference: "r")).first).code
        try await harness.test { client in
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                     body: form([("code", code.grouped.lowercased()), ("email", "Ada@Example.com")])) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.text.contains("You have a seat"))
                #expect(response.text.contains("Sign in at https://lms.example.com with ada@example.com"))
                #expect(response.text.contains(#"role="status""#))
            }
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                     body: form([("code", code.grouped), ("email", "ada@example.com")])) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("already redeemed this code"))
            }
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                     body: form([("code", code.grouped), ("email", "bo@example.com")])) { response in
                #expect(response.status == .conflict)
                #expect(response.text.contains("already been used by someone else"))
                #expect(response.text.contains(#"role="alert""#))
                // What they typed stays in the form.
                #expect(response.text.contains(#"value="bo@example.com""#))
            }
        }
        #expect(try await harness.store.jobs(JobFilter(kind: .enroll)).count == 1)
    }

    @Test func mistakesAreSaidInPlainWordsAndChangeNothing() async throws {
        let harness = try ServerHarness(clock: ManualClock(Date(timeIntervalSince1970: 1_800_000_030)))
        try await harness.test { client in
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders, body: form([])) { response in
                #expect(response.status == .badRequest)
                #expect(response.text.contains("Please enter your code and your email."))
            }
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                     body: form([("code", "7KQ2-M9XD-4HTR"), ("email", "")])) { response in
                #expect(response.text.contains("Please enter your email."))
            }
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                     body: form([("code", "7KQ2"), ("email", "ada@example.com")])) { response in
                #expect(response.status == .badRequest)
                #expect(response.text.contains("a code has 12 letters and digits"))
            }
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                     body: form([("code", "7KQ2-M9XD-4HTR"), ("email", "not an email")])) { response in
                #expect(response.status == .badRequest)
                #expect(response.text.contains("does not look right"))
            }
            // One failure so far (the short code); nine unknown codes make ten, the next is turned away unread.
            for attempt in 0..<9 {
                try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                         body: form([("code", "0000-0000-000\(attempt)"), ("email", "ada@example.com")])) { response in
                    #expect(response.status == .notFound)
                    #expect(response.text.contains("We found no such code"))
                }
            }
            try await client.execute(uri: "/redeem", method: .post, headers: formHeaders,
                                     body: form([("code", "0000-0000-000Z"), ("email", "ada@example.com")])) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.text.contains("Wait a minute"))
            }
        }
        #expect(try await harness.store.jobs(JobFilter()).isEmpty)
    }
}

/// Display names for the learner's pages: looked up once per course however many ask, remembered, and never
/// waited on longer than the page allows.
@Suite struct CourseTitlesTests {
    @Test func oneLookupServesEveryoneAndIsRemembered() async {
        let calls = Mutex(0)
        let titles = CourseTitles { _ in
            calls.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(50))
            return "Demonstration Course"
        }
        let names = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { await titles.title(of: "course-v1:edX+DemoX+2026") } }
            var all: [String?] = []
            for await name in group { all.append(name) }
            return all
        }
        #expect(names.allSatisfy { $0 == "Demonstration Course" })
        #expect(await titles.title(of: "course-v1:edX+DemoX+2026") == "Demonstration Course")
        #expect(calls.withLock { $0 } == 1)
    }

    /// The answer is held back until the page has been served, so the page cannot have waited for it, however
    /// slow the machine.
    @Test func aSlowAnswerIsNotWaitedForButServesTheNextPage() async throws {
        let (release, released) = AsyncStream.makeStream(of: Void.self)
        let titles = CourseTitles(wait: .milliseconds(100)) { _ in
            for await _ in release { break }
            return "Slow Course"
        }
        #expect(await titles.title(of: "c") == nil, "the page shows the key")
        released.yield()
        #expect(try await waitUntil(timeout: .seconds(30)) { await titles.title(of: "c") == "Slow Course" })
    }

    @Test func aFailedLookupIsRememberedBriefly() async {
        let calls = Mutex(0)
        let titles = CourseTitles(failureTTL: 3600) { _ in
            calls.withLock { $0 += 1 }
            return nil
        }
        #expect(await titles.title(of: "c") == nil)
        #expect(await titles.title(of: "c") == nil)
        #expect(calls.withLock { $0 } == 1, "an unreachable LMS is not asked on every page")
    }
}
