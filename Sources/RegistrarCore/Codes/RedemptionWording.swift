/// What the learner reads after redeeming a code, and for each refusal: what happens next, in plain words. The
/// enrollment itself is a job that runs within moments, so the page says what the learner must do, which
/// depends on `openedx.unknown_learner` (Registrar does not know at that moment whether they have an account).
public enum RedemptionWording {
    /// - Parameter course: the course's display name, or its key when Open edX gave none.
    public static func success(course: String, email: String, lmsURL: String, policy: UnknownLearnerPolicy) -> String {
        let enrolled = "Your seat in \(course) is yours. Sign in at \(lmsURL) with \(email) to find the course."
        switch policy {
        case .allow:
            return enrolled + " No account yet? Register at \(lmsURL) with this same email and you will be enrolled."
        case .wait:
            return enrolled + " No account yet? Register at \(lmsURL) with this same email: your enrollment waits for it."
        case .fail:
            return enrolled + " You need an account at \(lmsURL) with this email; ask the school if you have none."
        }
    }

    public static let alreadyRedeemed = "You had already redeemed this code: your seat is kept, nothing more to do."

    public static func refusal(_ refusal: RedemptionRefusal) -> String {
        switch refusal {
        case .spent: "This code has already been used by someone else. Ask whoever gave it to you for another."
        case .void: "This code is no longer valid (it was cancelled). Ask whoever gave it to you."
        case .contractFull: "Every place your organization bought is taken. Ask the person who gave you the code."
        case .contractInactive: "Your organization's access is not open at the moment. Ask the person who gave you the code."
        }
    }

    public static let unknown = "We found no such code. Check it against the email you received: it looks like 7KQ2-M9XD-4HTR."
    public static let paymentRequired = "This code needs a payment first, which cannot be made here. Ask whoever gave it to you."

    /// A priced code: the seat waits while the learner pays.
    public static func payment(course: String, amount: String, email: String) -> String {
        "A seat in \(course) with this code costs \(amount). It is held for \(email) while you pay: you are enrolled as soon as the payment is accepted."
    }
    public static let tooManyAttempts = "Too many codes that did not work were tried from your connection. Wait a minute and try again."
    public static let unavailable = "Something went wrong on our side and nothing was recorded. Please try again in a moment."
}
