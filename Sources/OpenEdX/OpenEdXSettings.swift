import RegistrarCore

/// What the client needs to know about the LMS and Studio it talks to.
public struct OpenEdXSettings: Sendable {
    public var lmsURL: String
    public var studioURL: String
    public var clientID: String
    public var clientSecret: Secret?
    public var forceEnrollment: Bool
    public var requestsPerMinute: Int

    public init(lmsURL: String, studioURL: String, clientID: String, clientSecret: Secret?, forceEnrollment: Bool = true,
                requestsPerMinute: Int = 120) {
        self.lmsURL = lmsURL
        self.studioURL = studioURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.forceEnrollment = forceEnrollment
        self.requestsPerMinute = requestsPerMinute
    }

    public init(_ config: OpenEdXConfig) {
        self.init(lmsURL: config.lmsURL, studioURL: config.studioURL, clientID: config.clientID,
                  clientSecret: config.clientSecret, forceEnrollment: config.forceEnrollment,
                  requestsPerMinute: config.requestsPerMinute)
    }
}
