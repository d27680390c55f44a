/// Roles of API tokens; each group of routes names the roles it admits.
public enum APIRole: String, Sendable, CaseIterable, Codable {
    /// Registers orders and reads them (a storefront).
    case storefront
    /// Reads and replays jobs, reads deliveries and orders (operators).
    case ops
    /// Sees what `ops` sees, in the console and the read half of the operators' API; changes nothing.
    case viewer
    /// Reviews payments and orders.
    case financeAdmin = "finance_admin"
    /// Contracts and codes (later features).
    case salesAdmin = "sales_admin"
}

/// Which orders a token may read.
public enum OrderVisibility {
    /// A storefront reads only the orders it registered (another storefront's buyers are not its business);
    /// operators and finance read all. An order registered before owners were recorded has none, so only they do.
    public static func canRead(role: APIRole, tokenName: String, createdBy: String?) -> Bool {
        switch role {
        case .storefront: createdBy == tokenName
        case .ops, .viewer, .financeAdmin: true
        case .salesAdmin: false
        }
    }
}
