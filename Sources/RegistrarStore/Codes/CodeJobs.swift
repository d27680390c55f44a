import RegistrarCore

extension CodeRecord {
    /// The enroll job of `email`'s redemption: dedupe key `code:<code>:<email>`, one per learner and code however
    /// often they redeem it; `orderReference` goes to the LMS as the enrollment's order attribute.
    public func enrollJob(email: String, orderReference: String?) -> NewJob {
        NewJob(kind: .enroll, dedupeKey: RedemptionRules.enrollKey(code: code, email: email),
               serialKey: SerialKey.enrollment(email: email, courseID: courseID),
               payload: EnrollPayload(email: email, courseID: courseID, mode: mode, orderReference: orderReference).jsonText,
               source: "code:\(code.logSafe)")
    }

    /// The unenroll job of an operator's `codes revoke` for `email`: after that learner's enrollment, once.
    public func revokeJob(email: String) -> NewJob {
        NewJob(kind: .unenroll, dedupeKey: RedemptionRules.enrollKey(code: code, email: email) + ":unenroll",
               serialKey: SerialKey.enrollment(email: email, courseID: courseID),
               payload: UnenrollPayload(email: email, courseID: courseID, orderReference: sourceReference).jsonText,
               source: "code:\(code.logSafe)")
    }
}
