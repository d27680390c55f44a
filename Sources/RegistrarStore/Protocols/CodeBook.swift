import RegistrarCore

/// What registration codes need from the store: make them for a source, redeem one atomically with the
/// enrollment it grants, void and revoke, list. Every method is one commit.
public protocol CodeBook: Sendable {
    /// Makes fresh codes (the system's CSPRNG; a collision with any existing code is drawn again), in one
    /// commit. Returns them in creation order.
    func createCodes(_ request: NewCodes) async throws -> [CodeRecord]

    func code(_ code: RegistrationCode) async throws -> CodeRecord?

    func codes(_ filter: CodeFilter) async throws -> [CodeRecord]

    /// One learner redeems one code: in one commit the code is read, `RedemptionRules` decide, and a redemption
    /// is recorded with an `enroll` job for the code's run and mode (dedupe key `code:<code>:<email>`). Two
    /// learners racing for a one-time code are decided in turn: exactly one gets it.
    /// A priced code is not redeemed at once: with a `checkout`, an order for its price is made and the seat held
    /// for this learner (`orders.hold_minutes`) in the same commit, and the same learner asking again gets that
    /// order back; the order's ACCEPT completes the redemption (`OrderBook.applyPayment`), a DECLINE or CANCEL
    /// releases the seat, and a lapsed hold frees it for another learner.
    /// - Parameter email: normalised (trimmed, lower-case).
    func redeem(_ code: RegistrationCode, email: String, checkout: CodeCheckout?) async throws -> RedemptionOutcome

    /// Voids the codes that are not void already, with the reason and who did it. Redeemed codes are voided too
    /// (no one is unenrolled: that is `revoke`). Returns every code named that exists, as it is afterwards.
    func voidCodes(_ codes: [RegistrationCode], reason: String, actor: String) async throws -> [CodeRecord]

    /// Takes a learner's seat back: voids the code (if it is not) and enqueues that learner's `unenroll`.
    func revoke(_ code: RegistrationCode, email: String, actor: String) async throws -> RevokeOutcome
}

extension CodeBook {
    /// Without a checkout: a priced code answers `.paymentRequired(_, order: nil)` and nothing is recorded.
    public func redeem(_ code: RegistrationCode, email: String) async throws -> RedemptionOutcome {
        try await redeem(code, email: email, checkout: nil)
    }
}
