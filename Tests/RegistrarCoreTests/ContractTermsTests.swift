import Foundation
import RegistrarCore
import Testing

/// Contract terms, organization keys and contract run keys: what is refused, and with which words.
@Suite struct ContractTermsTests {
    @Test func aContractIsInForceWhenActiveAndWithinItsDays() {
        let terms = ContractTerms(integration: .nonSSO, start: "2027-01-01", end: "2027-06-30")
        #expect(!terms.inForce(on: "2026-12-31"))
        #expect(terms.inForce(on: "2027-01-01") && terms.inForce(on: "2027-06-30"), "both ends included")
        #expect(!terms.inForce(on: "2027-07-01"))
        var inactive = terms
        inactive.active = false
        #expect(!inactive.inForce(on: "2027-03-01"))
        #expect(ContractTerms(integration: .sso).inForce(on: "1999-01-01"), "open-ended")
        #expect(ContractTerms.day(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15")
    }

    @Test func badTermsAreRefusedNamingTheOption() {
        func problem(_ terms: ContractTerms) -> String? { terms.problem }
        #expect(problem(ContractTerms(integration: .nonSSO, start: "2027-02-30")) == "--start 2027-02-30 is not a date (YYYY-MM-DD)")
        #expect(problem(ContractTerms(integration: .nonSSO, end: "27-01-01")) == "--end 27-01-01 is not a date (YYYY-MM-DD)")
        #expect(problem(ContractTerms(integration: .nonSSO, start: "2027-02-01", end: "2027-01-31")) == "--end 2027-01-31 is before --start 2027-02-01")
        #expect(problem(ContractTerms(integration: .nonSSO, maxLearners: -1)) == "--max-learners must not be negative (got -1)")
        #expect(problem(ContractTerms(integration: .nonSSO, price: -5, currency: "USD")) == "--price must not be negative (got -5.00)")
        #expect(problem(ContractTerms(integration: .nonSSO, price: 5)) == "--price needs --currency")
        #expect(problem(ContractTerms(integration: .nonSSO, price: 5, currency: "US")) == "--currency US is not a three-letter code")
        #expect(problem(ContractTerms(integration: .nonSSO, start: "2024-02-29", end: "2024-02-29", maxLearners: 0, price: 0)) == nil)
    }

    @Test func organizationKeysAreWhatCourseKeysAllow() {
        #expect(OrganizationKey.problem("MIT_x.1-2") == nil)
        #expect(OrganizationKey.problem("") != nil)
        #expect(OrganizationKey.problem("AC ME")?.contains("only letters, digits") == true)
        #expect(OrganizationKey.problem("Ü") != nil)
        #expect(OrganizationKey.problem(String(repeating: "A", count: 31))?.contains("longer than 30") == true)
        #expect(OrganizationKey.slug("Acme Corp, Inc.") == "acme-corp-inc")
        #expect(OrganizationKey.slug("!!!") == "org")
    }

    @Test func courseNumbersAndRunKeysBecomeContractRuns() {
        #expect(ContractRunKey.source("18.01x", sourceOrg: "UAI_SOURCE", sourceRun: "SOURCE", attach: false)
                == .success(.clone(source: "course-v1:UAI_SOURCE+18.01x+SOURCE", number: "18.01x")))
        #expect(ContractRunKey.source("course-v1:MITx+6.002x+2T2026", sourceOrg: "S", sourceRun: "R", attach: false)
                == .success(.clone(source: "course-v1:MITx+6.002x+2T2026", number: "6.002x")))
        #expect(ContractRunKey.source("course-v1:MITx+6.002x+2T2026", sourceOrg: "S", sourceRun: "R", attach: true)
                == .success(.existing("course-v1:MITx+6.002x+2T2026")))
        #expect(ContractRunKey.source("18.01x", sourceOrg: "S", sourceRun: "R", attach: true)
                == .failure(ContractProblem("--no-create-runs needs run keys (course-v1:ORG+NUM+RUN), not 18.01x")))
        if case .success = ContractRunKey.source("bad key/with slash", sourceOrg: "S", sourceRun: "R", attach: false) {
            Issue.record("a course that is neither a number nor a key was taken")
        }
        #expect(ContractRunKey.contractRun(orgPrefix: "UAI_", orgKey: "ACME", number: "18.01x", year: 2026, contractID: 19)
                == "course-v1:UAI_ACME+18.01x+2026_C19")
    }
}
