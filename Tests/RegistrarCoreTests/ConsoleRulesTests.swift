import Foundation
import RegistrarCore
import Testing

/// The console's decisions: who sees and does what, sessions and their cookie, CSRF, failure groups, and what a
/// job search means in the job table's keys.
@Suite struct ConsoleRulesTests {
    @Test func aViewerSeesWhatOpsSeeAndChangesNothing() {
        for page in ConsoleAccess.Page.allCases {
            #expect(ConsoleAccess.maySee(page, role: .viewer) == ConsoleAccess.maySee(page, role: .ops), "\(page)")
            #expect(!ConsoleAccess.maySee(page, role: .storefront))
        }
        #expect(ConsoleAccess.mayAct(.jobs, role: .ops))
        for role in [APIRole.viewer, .storefront, .salesAdmin, .financeAdmin] { #expect(!ConsoleAccess.mayAct(.jobs, role: role), "\(role)") }
        #expect(!ConsoleAccess.mayAct(.review, role: .viewer) && ConsoleAccess.mayAct(.review, role: .financeAdmin))
        #expect(!ConsoleAccess.maySignIn(.storefront) && ConsoleAccess.maySignIn(.viewer))
        #expect(!ConsoleAccess.maySee(.jobs, role: .salesAdmin) && ConsoleAccess.maySee(.contracts, role: .salesAdmin))
        #expect(ConsoleAccess.pages(for: .salesAdmin) == [.overview, .codes, .invoices, .contracts])
    }

    @Test func sessionsExpireWhenIdleOrOldAndAreTouchedAboutOnceAMinute() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(!ConsoleSessionRules.expired(createdAt: start, lastSeenAt: start, now: start + 1800, idle: 1800))
        #expect(ConsoleSessionRules.expired(createdAt: start, lastSeenAt: start, now: start + 1801, idle: 1800))
        #expect(ConsoleSessionRules.expired(createdAt: start, lastSeenAt: start + 43_000, now: start + 43_201, idle: 1800), "12 hours at most")
        #expect(!ConsoleSessionRules.shouldTouch(lastSeenAt: start, now: start + 59))
        #expect(ConsoleSessionRules.shouldTouch(lastSeenAt: start, now: start + 60))
    }

    @Test func theCookieIsHttpOnlyStrictAndSecureBehindHTTPS() {
        #expect(ConsoleSessionRules.cookie(value: "abc", secure: false) == "registrar_console=abc; Path=/console; HttpOnly; SameSite=Strict")
        #expect(ConsoleSessionRules.cookie(value: "abc", secure: true).hasSuffix("; Secure"))
        #expect(ConsoleSessionRules.clearingCookie(secure: false).contains("Max-Age=0"))
        #expect(ConsoleSessionRules.sessionID(cookieHeader: "a=1; registrar_console=xyz; b=2") == "xyz")
        #expect(ConsoleSessionRules.sessionID(cookieHeader: "registrar_console_x=1") == nil)
        #expect(ConsoleSessionRules.sessionID(cookieHeader: "registrar_console=") == nil)
        #expect(ConsoleSessionRules.sessionID(cookieHeader: nil) == nil)
    }

    @Test func theCSRFTokenMustBeTheSessionsExactly() {
        #expect(ConsoleSessionRules.csrfMatches("rgt_abc", expected: "rgt_abc"))
        #expect(!ConsoleSessionRules.csrfMatches("rgt_abd", expected: "rgt_abc"))
        #expect(!ConsoleSessionRules.csrfMatches("rgt_ab", expected: "rgt_abc"))
        #expect(!ConsoleSessionRules.csrfMatches(nil, expected: "rgt_abc"))
        #expect(!ConsoleSessionRules.csrfMatches("", expected: ""), "an empty expected token matches nothing")
    }

    @Test func failuresOfOneCauseAreOneGroup() {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let failures = [
            FailureGroups.Failure(id: 1, kind: "enroll", httpStatus: 400, error: "no account for ann@example.com in course 1234567", updatedAt: at),
            FailureGroups.Failure(id: 2, kind: "enroll", httpStatus: 400, error: "no account for bo@example.org in course 7654321", updatedAt: at + 60),
            FailureGroups.Failure(id: 3, kind: "enroll", httpStatus: 503, error: "no account for ann@example.com in course 1234567", updatedAt: at),
            FailureGroups.Failure(id: 4, kind: "mail", httpStatus: nil, error: "SMTP refused", updatedAt: at),
        ]
        let groups = FailureGroups.group(failures)
        #expect(groups.map(\.count) == [2, 1, 1])
        #expect(groups[0].signature == "no account for …@… in course #" && groups[0].sampleJobID == 2)
        // Counted by the store already: counts add up, the newest job and the oldest time win.
        let counted = FailureGroups.group([
            FailureGroups.Failure(id: 9, kind: "enroll", httpStatus: 503, error: "down 12345", updatedAt: at + 5, count: 40, oldest: at - 100),
            FailureGroups.Failure(id: 12, kind: "enroll", httpStatus: 503, error: "down 67890", updatedAt: at + 9, count: 2, oldest: at),
        ])
        #expect(counted.count == 1 && counted[0].count == 42 && counted[0].sampleJobID == 12 && counted[0].oldest == at - 100 && counted[0].newest == at + 9)
        #expect(groups[0].oldest == at && groups[0].newest == at + 60)
        #expect(FailureGroups.signature("HTTP 429 after 3 tries, order 12345") == "HTTP 429 after 3 tries, order #")
        #expect(FailureGroups.signature("  two  spaces ") == "  two  spaces ", "spacing kept")
    }

    @Test func searchesAreKeyRanges() {
        let range = JobSearchKeys.range(prefix: "order:R-1:")
        #expect(range == ("order:R-1:", "order:R-1;"))
        #expect("order:R-1:0:enroll" >= range.lower && "order:R-1:0:enroll" < range.upper)
        #expect(!("order:R-10:0:enroll" < range.upper && "order:R-10:0:enroll" >= range.lower))
        #expect(JobSearchKeys.order("main:727") == "woo:main:727:")
        #expect(JobSearchKeys.order("RG-ABC") == "order:RG-ABC:")
        #expect(JobSearchKeys.store("main") == "woo:main:")
        let learner = JobSearchKeys.learner(email: " Zoe@Example.com")
        #expect(learner.lower == "zoe@example.com|")
        #expect("zoe@example.com|course-v1:a+b+c" < learner.upper)
        for other in ["zoe@example.comx|c", "zoe@example.co|c", "azoe@example.com|c"] {
            #expect(!(other >= learner.lower && other < learner.upper), "\(other) is another learner")
        }
    }
}
