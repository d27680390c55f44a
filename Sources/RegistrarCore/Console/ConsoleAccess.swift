/// Who may open which console page and do what there. The server asks here for every request, so a hidden
/// button is never the only thing between a `viewer` and a replay.
public enum ConsoleAccess {
    public enum Page: String, Sendable, CaseIterable {
        case overview, failures, jobs, bulk, deliveries, orders, codes, invoices, contracts, audit
    }

    public enum Action: String, Sendable {
        /// Replay or cancel jobs, one or in bulk.
        case jobs
        /// Accept or reject an order held for review; dismiss a store order's flag.
        case review
    }

    /// Storefronts are programs, not people: they never sign in.
    public static func maySignIn(_ role: APIRole) -> Bool { role != .storefront }

    public static func maySee(_ page: Page, role: APIRole) -> Bool {
        switch role {
        case .ops, .viewer: [.overview, .failures, .jobs, .bulk, .deliveries, .orders, .codes, .invoices, .contracts, .audit].contains(page)
        case .financeAdmin: [.overview, .orders, .codes, .invoices, .audit].contains(page)
        case .salesAdmin: [.overview, .codes, .invoices, .contracts].contains(page)
        case .storefront: false
        }
    }

    public static func mayAct(_ action: Action, role: APIRole) -> Bool {
        switch action {
        case .jobs: role == .ops
        case .review: role == .ops || role == .financeAdmin
        }
    }

    /// Whole codes (the CSV files) are seats anyone can redeem: only the roles that read codes through the API
    /// download them; the pages show their last characters.
    public static func mayExportCodes(_ role: APIRole) -> Bool { role == .salesAdmin || role == .financeAdmin }

    /// The pages a role's navigation lists, in order.
    public static func pages(for role: APIRole) -> [Page] {
        Page.allCases.filter { $0 != .bulk && maySee($0, role: role) }
    }
}
