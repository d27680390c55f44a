import Foundation
import Logging
import RegistrarCore
import RegistrarStore
import Synchronization

/// One learner's attempt at one code, shared by the storefront API and the `/redeem` page: the failure budget
/// first (past it nothing is checked), then the email and the code as typed, then the store's one atomic
/// redemption. Codes appear in the log by their first four characters only.
struct RedemptionDesk: Sendable {
    let codes: any CodeBook
    let failures: RedemptionFailureGate
    let signer: CheckoutSigner
    let logger: Logger

    enum Attempt: Sendable {
        case limited
        case invalidEmail(String)
        case malformedCode(CodeInputProblem)
        case unavailable
        /// With the normalised email.
        case done(RedemptionOutcome, email: String)
    }

    /// - Parameter createdBy: the storefront token asking, which may then read a priced code's order.
    func attempt(code typed: String, email typedEmail: String, client: String, createdBy: String? = nil) async -> Attempt {
        if failures.isExhausted(client) {
            logger.notice("redemption refused: too many failures", metadata: ["client": "\(client)"])
            return .limited
        }
        if let problem = EmailAddressRule.problem(typedEmail) { return .invalidEmail(problem) }
        let email = normalizedEmail(typedEmail)
        let code: RegistrationCode
        switch RegistrationCode.parse(typed) {
        case .success(let parsed): code = parsed
        case .failure(let problem):
            failures.count(client)
            return .malformedCode(problem)
        }
        let outcome: RedemptionOutcome
        do { outcome = try await codes.redeem(code, email: email, checkout: signer.codeCheckout(createdBy: createdBy)) } catch {
            logger.error("could not record a redemption", metadata: ["code": "\(code)", "error": "\(error)"])
            return .unavailable
        }
        switch outcome {
        case .redeemed(let record, let jobID):
            logger.info("code redeemed", metadata: ["code": "\(code)", "email": "\(email)", "course": "\(record.courseID)",
                                                    "job": "\(jobID)"])
        case .refused(let refusal, _):
            // A full or closed contract is no sign of guessing: learners of one organization share an address.
            if refusal == .spent || refusal == .void { failures.count(client) }
            logger.notice("redemption refused", metadata: ["code": "\(code)", "reason": "\(refusal.rawValue)", "client": "\(client)"])
        case .unknownCode:
            failures.count(client)
            logger.notice("redemption of an unknown code", metadata: ["code": "\(code)", "client": "\(client)"])
        case .paymentRequired(let record, let order):
            logger.info("code needs a payment: seat held", metadata: ["code": "\(code)", "email": "\(email)", "course": "\(record.courseID)",
                                                                    "order": "\(order?.reference ?? "none: no CyberSource profile")"])
        case .alreadyRedeemed:
            break
        }
        return .done(outcome, email: email)
    }
}

/// Failed redemptions per client address (`codes.redeem_failures_per_minute`).
final class RedemptionFailureGate: Sendable {
    private let budget: Mutex<RejectionBudget>
    private let clock: any WallClock

    init(perMinute: Int, clock: any WallClock) {
        budget = Mutex(RejectionBudget(perMinute: perMinute))
        self.clock = clock
    }

    func isExhausted(_ client: String) -> Bool {
        let now = clock.now()
        return budget.withLock { $0.isExhausted(client, at: now) }
    }

    func count(_ client: String) {
        let now = clock.now()
        _ = budget.withLock { $0.admit(client, at: now) }
    }
}
