/// CyberSource's verdict on a payment. Only ACCEPT may lead to fulfilment; REVIEW waits for a person.
public enum CallbackDecision: String, Sendable, CaseIterable {
    case accept = "ACCEPT"
    case decline = "DECLINE"
    case review = "REVIEW"
    case error = "ERROR"
    case cancel = "CANCEL"
}
