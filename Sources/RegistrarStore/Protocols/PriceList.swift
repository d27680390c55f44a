import RegistrarCore

/// The price list of the hosted checkout: what each course run costs in a mode and currency. Every change is
/// audited under its actor.
public protocol PriceList: Sendable {
    /// Lists a price, or changes the one listed for its course, mode and currency. Returns the price it replaced.
    func setPrice(_ price: ListedPrice, actor: String) async throws -> ListedPrice?
    /// Removes a course mode's price in one currency, or in every currency when `currency` is nil. Returns those
    /// removed (none when nothing was listed).
    func removePrices(courseID: String, mode: String, currency: String?, actor: String) async throws -> [ListedPrice]
    /// The listed prices of the courses named, or every one when nil, by course, mode and currency.
    func prices(courseIDs: [String]?) async throws -> [ListedPrice]
}
