import Foundation
import RegistrarCore

/// A coupon as the store keeps it, with how often it has been used.
public struct CouponRecord: Sendable, Equatable {
    public var coupon: Coupon
    public var description: String?
    public var createdAt: Date
    public var createdBy: String
    /// Orders paid (or held for review) with it: uses for good.
    public var used: Int
    /// Orders waiting for their payment with it, their hold not lapsed: uses for now.
    public var held: Int

    public init(coupon: Coupon, description: String?, createdAt: Date, createdBy: String, used: Int, held: Int) {
        self.coupon = coupon
        self.description = description
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.used = used
        self.held = held
    }

    /// What counts against `max-uses`.
    public var uses: Int { used + held }
}

public enum CouponError: Error, Sendable, CustomStringConvertible, Equatable {
    case codeTaken(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .codeTaken(let code): "a coupon \(code) exists already (codes are never reused)"
        case .notFound(let code): "no coupon \(code)"
        }
    }
}
