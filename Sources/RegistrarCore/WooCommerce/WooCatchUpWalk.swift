/// How one catch-up walks a store's order list: which request comes next, which listed orders to decide, and how
/// far the cursor may move once a page's orders are committed. Pure, so every path is unit-tested.
///
/// A store sorting by `modified` ascending is walked by keyset: after a page whose newest order was modified at
/// N, the next request asks for orders modified after N − 1 s. Page numbers would skip orders: one modified
/// during the walk moves to the end, and every later order shifts one place back onto a page already read. Only
/// when one second holds a whole page does the walk turn the page instead.
///
/// A store that ignores `modified_after` (old stores ignore parameters they do not know) or does not sort is
/// found out from the dates it returns. It is then walked page by page to the end, only orders modified after
/// the start are decided, and the cursor moves once, at the end, if the list did not change meanwhile.
public struct WooCatchUpWalk: Sendable {
    /// WooCommerce's maximum `per_page`.
    public static let pageSize = 100
    /// A walk stops here (a million orders) rather than loop on a store that misbehaves.
    public static let maxRequests = 10_000

    public struct Request: Equatable, Sendable {
        public var modifiedAfter: WooModifiedTime
        public var page: Int

        public init(modifiedAfter: WooModifiedTime, page: Int) {
            self.modifiedAfter = modifiedAfter
            self.page = page
        }
    }

    public struct Page: Equatable, Sendable {
        /// Indices of the listed orders to decide: those modified after the start, and those without a date.
        public var toDecide: [Int]
        /// Listed orders modified at or before what was asked: proof the store ignored `modified_after`.
        public var outside: Int
        /// The cursor once the decided orders are committed; nil leaves it where it is.
        public var cursor: WooModifiedTime?

        public init(toDecide: [Int], outside: Int, cursor: WooModifiedTime?) {
            self.toDecide = toDecide
            self.outside = outside
            self.cursor = cursor
        }
    }

    /// `modified_after` of the first request.
    public let start: WooModifiedTime
    /// Only a walk from at or before the cursor covers everything after it, so only such a walk moves it.
    public let movesCursor: Bool
    /// The request to send next; nil once the walk is over.
    public private(set) var next: Request?
    public private(set) var newestSeen: WooModifiedTime?
    /// The store returned orders modified before what was asked.
    public private(set) var ignoresModifiedAfter = false
    /// The store returned a page out of order.
    public private(set) var ignoresOrder = false
    /// The walk stopped at `maxRequests` before the end.
    public private(set) var truncated = false
    public private(set) var requests = 0
    private var totalOfQuery: (after: WooModifiedTime, total: Int)?
    private var listChanged = false

    /// - Parameters:
    ///   - cursor: the instant up to which every order of the store is committed.
    ///   - since: an operator's start (`--since`); nil starts `overlapSeconds` before the cursor.
    public init(cursor: WooModifiedTime, overlapSeconds: Int, since: WooModifiedTime? = nil) {
        let start = (since ?? WooModifiedTime(milliseconds: cursor.milliseconds - Int64(overlapSeconds) * 1000)).wholeSecond
        self.start = start
        movesCursor = start <= cursor
        next = Request(modifiedAfter: start, page: 1)
    }

    /// Walked page by page: the store's dates cannot be trusted to keyset on.
    public var walksByPage: Bool { ignoresModifiedAfter || ignoresOrder }

    /// Takes the answer to `next`: the listed orders' `date_modified_gmt` (nil when missing or unreadable) and the
    /// `X-WP-Total` / `X-WP-TotalPages` headers. Moves `next` on.
    public mutating func take(dates: [WooModifiedTime?], total: Int?, totalPages: Int?) -> Page {
        guard let request = next else { return Page(toDecide: [], outside: 0, cursor: nil) }
        requests += 1
        var toDecide: [Int] = []
        var outside = 0
        var pageNewest: WooModifiedTime?
        var previous: WooModifiedTime?
        for (index, date) in dates.enumerated() {
            guard let date else {
                toDecide.append(index)
                continue
            }
            if date <= request.modifiedAfter { outside += 1 }
            if date > start { toDecide.append(index) }
            if let previous, date < previous { ignoresOrder = true }
            previous = date
            pageNewest = max(pageNewest ?? date, date)
        }
        if outside > 0 { ignoresModifiedAfter = true }
        if let pageNewest { newestSeen = max(newestSeen ?? pageNewest, pageNewest) }
        if let total {
            if let known = totalOfQuery, known.after == request.modifiedAfter, known.total != total { listChanged = true }
            totalOfQuery = (request.modifiedAfter, total)
        }

        let atEnd = dates.count < Self.pageSize || (totalPages.map { request.page >= $0 } ?? false)
        if atEnd {
            next = nil
        } else if requests >= Self.maxRequests {
            next = nil
            truncated = true
        } else if !walksByPage, let pageNewest,
                  case let after = WooModifiedTime(milliseconds: pageNewest.milliseconds - 1000), after > request.modifiedAfter {
            next = Request(modifiedAfter: after, page: 1)
        } else {
            next = Request(modifiedAfter: request.modifiedAfter, page: request.page + 1)
        }

        var cursor: WooModifiedTime?
        if movesCursor, !truncated {
            if !walksByPage {
                // Sorted and filtered: every order modified before this page's newest is on it or an earlier one.
                cursor = next == nil ? newestSeen : pageNewest
            } else if next == nil, !listChanged {
                cursor = newestSeen
            }
        }
        return Page(toDecide: toDecide, outside: outside, cursor: cursor)
    }
}

extension WooModifiedTime {
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// An instant of the clock (seconds since 1970).
    public init(secondsSince1970 seconds: Double) {
        self.milliseconds = Int64((seconds * 1000).rounded(.down))
    }

    /// The start of its second: `modified_after` and the dates WooCommerce writes have no fractions.
    public var wholeSecond: WooModifiedTime {
        WooModifiedTime(milliseconds: milliseconds - ((milliseconds % 1000) + 1000) % 1000)
    }

    /// As `modified_after` wants it: "2026-11-20T13:00:00", GMT (with `dates_are_gmt=true`).
    public var queryText: String { String(canonical.prefix(19)) }
}
