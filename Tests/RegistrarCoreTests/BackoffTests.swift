import Foundation
import RegistrarCore
import Testing

@Suite struct BackoffTests {
    let policy = BackoffPolicy(base: .seconds(2), cap: .seconds(3600), jitter: 0.1)

    @Test func doublesFromTheBaseWithoutJitterAtTheMidpoint() {
        // unitRandom 0.5 means zero spread, so the raw schedule shows through.
        let delays = (1...8).map { policy.delay(afterAttempt: $0, unitRandom: 0.5) }
        #expect(delays == [2, 4, 8, 16, 32, 64, 128, 256].map { Duration.seconds($0) })
    }

    @Test func stopsAtTheCap() {
        #expect(policy.delay(afterAttempt: 12, unitRandom: 0.5) == .seconds(3600))
        #expect(policy.delay(afterAttempt: 25, unitRandom: 0.5) == .seconds(3600))
        #expect(policy.delay(afterAttempt: 500, unitRandom: 0.5) == .seconds(3600))
    }

    @Test func jitterSpreadsTenPercentBothWays() {
        #expect(policy.delay(afterAttempt: 3, unitRandom: 0) == .milliseconds(7200))
        #expect(policy.delay(afterAttempt: 3, unitRandom: 0.999_999).seconds > 8.79)
        #expect(policy.delay(afterAttempt: 3, unitRandom: 0.999_999).seconds <= 8.8)
        // Jitter may push past the cap by at most its own fraction.
        #expect(policy.delay(afterAttempt: 30, unitRandom: 0.999_999).seconds <= 3960)
    }

    @Test func firstAttemptWaitsTheBase() {
        let fast = BackoffPolicy(base: .milliseconds(100), cap: .seconds(1), jitter: 0)
        #expect(fast.delay(afterAttempt: 1, unitRandom: 0.9) == .milliseconds(100))
        #expect(fast.delay(afterAttempt: 0, unitRandom: 0.9) == .milliseconds(100))
        #expect(fast.delay(afterAttempt: 5, unitRandom: 0.9) == .seconds(1))
    }
}

@Suite struct RetryRuleTests {
    let rule = RetryRule(backoff: BackoffPolicy(base: .seconds(2), cap: .seconds(60), jitter: 0))
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func successSucceeds() {
        #expect(rule.nextStep(for: .success(detail: "ok"), attempts: 1, maxAttempts: 3, now: now, unitRandom: 0)
                == .succeed(detail: "ok"))
    }

    @Test func permanentFailsAtOnceWhateverTheAttemptsLeft() {
        #expect(rule.nextStep(for: .permanent(reason: "no such course"), attempts: 1, maxAttempts: 25, now: now, unitRandom: 0)
                == .fail(reason: "no such course"))
    }

    @Test func transientRetriesAfterBackoff() {
        #expect(rule.nextStep(for: .transient(reason: "503"), attempts: 3, maxAttempts: 25, now: now, unitRandom: 0)
                == .retry(at: now.addingTimeInterval(8), reason: "503"))
    }

    @Test func retryAfterOverridesBackoffEvenWhenLonger() {
        let step = rule.nextStep(for: .transient(reason: "429", retryAfter: .seconds(90)), attempts: 1, maxAttempts: 25,
                                 now: now, unitRandom: 0)
        #expect(step == .retry(at: now.addingTimeInterval(90), reason: "429"))
    }

    @Test func transientOnTheLastAttemptFails() {
        let step = rule.nextStep(for: .transient(reason: "timeout"), attempts: 5, maxAttempts: 5, now: now, unitRandom: 0)
        #expect(step == .fail(reason: "attempts exhausted (5 of 5): timeout"))
    }
}
