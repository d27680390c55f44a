import Foundation
import RegistrarCore

/// An API token as the store keeps it: a name and a role, never the value (only its hash is stored).
public struct APIToken: Sendable, Equatable {
    public var name: String
    public var role: APIRole
    public var createdAt: Date
    public var revokedAt: Date?
    /// Course id prefixes the token is limited to; nil for every course (`CourseScope`).
    public var scope: [String]?
    /// A storefront that may sell at other prices than the listed ones (`tokens create --may-set-prices`).
    public var maySetPrices: Bool

    public init(name: String, role: APIRole, createdAt: Date, revokedAt: Date?, scope: [String]? = nil, maySetPrices: Bool = false) {
        self.maySetPrices = maySetPrices
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.scope = scope
    }

    /// Whether the token may see or act on `courseID`.
    public func covers(_ courseID: String) -> Bool { CourseScope.covers(scope, courseID: courseID) }
}

public enum TokenError: Error, Sendable, CustomStringConvertible, Equatable {
    case nameTaken(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .nameTaken(let name): "a token named \(name) exists already (revoke it first, or pick another name)"
        case .notFound(let name): "no active token named \(name)"
        }
    }
}
