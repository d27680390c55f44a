import Foundation

/// A job as an intake or an operator asks for it, before the store gives it an id.
public struct NewJob: Sendable, Equatable {
    public var kind: JobKind
    /// Unique in the table: a second delivery of the same fact finds the existing job instead of adding one.
    public var dedupeKey: String
    /// Jobs sharing a serial key run one at a time, in creation order (`<email>|<course_id>` for enrollments).
    public var serialKey: String?
    /// JSON text; handlers decode the shape their kind expects.
    public var payload: String
    public var source: String
    /// `nil` takes `jobs.max_attempts` from the configuration.
    public var maxAttempts: Int?
    /// `nil` means due now.
    public var runAt: Date?

    public init(kind: JobKind, dedupeKey: String, serialKey: String? = nil, payload: String, source: String,
                maxAttempts: Int? = nil, runAt: Date? = nil) {
        self.kind = kind
        self.dedupeKey = dedupeKey
        self.serialKey = serialKey
        self.payload = payload
        self.source = source
        self.maxAttempts = maxAttempts
        self.runAt = runAt
    }

    /// Builds a job whose payload is an encodable value, encoded with sorted keys so equal facts give equal text.
    public init<P: Encodable>(kind: JobKind, dedupeKey: String, serialKey: String? = nil, payload: P, source: String,
                              maxAttempts: Int? = nil, runAt: Date? = nil) throws {
        self.init(kind: kind, dedupeKey: dedupeKey, serialKey: serialKey, payload: try JSONText.encode(payload),
                  source: source, maxAttempts: maxAttempts, runAt: runAt)
    }
}
