import RegistrarCore

/// Coupons a storefront's order can name. Their uses are reserved in the order's own commit (`OrderBook`).
public protocol CouponBook: Sendable {
    /// Throws `CouponError.codeTaken` when a coupon has the code already, deactivated or not.
    func createCoupon(_ coupon: Coupon, description: String?, actor: String) async throws
    /// Every coupon, newest first, with its uses.
    func coupons() async throws -> [CouponRecord]
    func coupon(code: String) async throws -> CouponRecord?
    /// No order can use it from now on; orders that hold a use keep it. Throws `CouponError.notFound`.
    func deactivateCoupon(code: String, actor: String) async throws -> CouponRecord
}
