/// Roles of API tokens; each group of routes names the roles it admits.
public enum APIRole: String, Sendable, CaseIterable, Codable {
    /// Registers orders and reads them (a storefront).
    case storefront
    /// Reads and replays jobs, reads deliveries and orders (operators).
    case ops
    /// Reviews payments and orders.
    case financeAdmin = "finance_admin"
    /// Contracts and codes (later features).
    case salesAdmin = "sales_admin"
}
