/// What a job does. An open set of names so that later features add kinds without touching the store.
public struct JobKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let enroll: JobKind = "enroll"
    public static let unenroll: JobKind = "unenroll"
    public static let woocommerceRefund: JobKind = "woocommerce.refund"
    public static let rerun: JobKind = "rerun"
}
