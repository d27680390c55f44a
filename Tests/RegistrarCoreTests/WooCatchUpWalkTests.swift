import RegistrarCore
import TestSupport
import Testing

/// `WooCatchUpWalk`: which request comes next, which listed orders are decided, and how far the cursor may move.
@Suite struct WooCatchUpWalkTests {
    func t(_ text: String) -> WooModifiedTime { WooModifiedTime(text)! }
    /// `count` dates one second apart from `first`.
    func seconds(from first: String, count: Int, step: Int64 = 1) -> [WooModifiedTime?] {
        (0..<count).map { WooModifiedTime(milliseconds: t(first).milliseconds + Int64($0) * step * 1000) }
    }

    @Test func startsTheOverlapBeforeTheCursorOnAWholeSecond() {
        let walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00.750"), overlapSeconds: 900)
        #expect(walk.start == t("2026-12-01T11:45:00"))
        #expect(walk.next == .init(modifiedAfter: t("2026-12-01T11:45:00"), page: 1))
        #expect(walk.movesCursor)
        #expect(walk.start.queryText == "2026-12-01T11:45:00")
    }

    @Test func anEmptyListEndsTheWalkAndLeavesTheCursor() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        let page = walk.take(dates: [], total: 0, totalPages: 0)
        #expect(page == .init(toDecide: [], outside: 0, cursor: nil))
        #expect(walk.next == nil)
        #expect(!walk.ignoresModifiedAfter)
    }

    @Test func aShortPageIsTheLastAndMovesTheCursorToTheNewestSeen() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        let dates = seconds(from: "2026-12-01T11:59:30", count: 3, step: 20)
        let page = walk.take(dates: dates, total: 3, totalPages: 1)
        #expect(page.toDecide == [0, 1, 2])
        #expect(page.cursor == t("2026-12-01T12:00:10"))
        #expect(walk.next == nil)
    }

    @Test func aFullPageIsFollowedByKeysetNotPageNumbers() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 3600)
        let dates = seconds(from: "2026-12-01T11:00:10", count: 100)
        let page = walk.take(dates: dates, total: 250, totalPages: 3)
        // Everything before the page's newest is on this page or an earlier one: the cursor may go there.
        #expect(page.cursor == t("2026-12-01T11:01:49"))
        // The newest second again (an order of that second may be on the next page), from page 1.
        #expect(walk.next == .init(modifiedAfter: t("2026-12-01T11:01:48"), page: 1))
    }

    @Test func aWholePageInOneSecondTurnsThePage() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        let same = [WooModifiedTime?](repeating: t("2026-12-01T11:59:30"), count: 100)
        _ = walk.take(dates: same, total: 150, totalPages: 2)
        #expect(walk.next == .init(modifiedAfter: t("2026-12-01T11:59:29"), page: 1))
        _ = walk.take(dates: same, total: 150, totalPages: 2)
        // No progress by keyset: the second page of the same query.
        #expect(walk.next == .init(modifiedAfter: t("2026-12-01T11:59:29"), page: 2))
        let last = walk.take(dates: Array(same.prefix(50)), total: 150, totalPages: 2)
        #expect(walk.next == nil)
        #expect(last.cursor == t("2026-12-01T11:59:30"))
    }

    @Test func aStoreIgnoringModifiedAfterIsWalkedWholeAndTheCursorMovesOnlyAtTheEnd() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        // An old store lists every order, oldest first, from long before the start.
        let first = walk.take(dates: seconds(from: "2026-11-01T00:00:00", count: 100, step: 3600), total: 900, totalPages: 9)
        #expect(walk.ignoresModifiedAfter)
        #expect(first.outside == 100)
        #expect(first.toDecide.isEmpty)
        #expect(first.cursor == nil)
        #expect(walk.next == .init(modifiedAfter: t("2026-12-01T11:59:00"), page: 2))
        var dates = [WooModifiedTime?](repeating: t("2026-11-20T00:00:00"), count: 98)
        dates += [t("2026-12-01T11:59:30"), t("2026-12-01T12:05:00")]
        let second = walk.take(dates: dates, total: 900, totalPages: 9)
        #expect(second.toDecide == [98, 99])
        #expect(second.cursor == nil)
        #expect(walk.next == .init(modifiedAfter: t("2026-12-01T11:59:00"), page: 3))
        let last = walk.take(dates: [t("2026-11-30T00:00:00")], total: 900, totalPages: 9)
        #expect(last.cursor == t("2026-12-01T12:05:00"))
        #expect(walk.next == nil)
    }

    @Test func aListThatChangesDuringAPageWalkHoldsTheCursor() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        _ = walk.take(dates: seconds(from: "2026-11-01T00:00:00", count: 100), total: 150, totalPages: 2)
        // One more order now: the pages shifted under the walk, an order may have been skipped.
        let last = walk.take(dates: seconds(from: "2026-12-01T11:59:10", count: 51), total: 151, totalPages: 2)
        #expect(walk.next == nil)
        #expect(last.cursor == nil)
    }

    @Test func anUnsortedPageSwitchesToPageNumbers() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 600)
        var dates = seconds(from: "2026-12-01T11:51:00", count: 100)
        dates.swapAt(3, 70)
        let page = walk.take(dates: dates, total: 200, totalPages: 2)
        #expect(walk.ignoresOrder)
        #expect(page.toDecide.count == 100)
        #expect(page.cursor == nil)
        #expect(walk.next == .init(modifiedAfter: t("2026-12-01T11:50:00"), page: 2))
    }

    @Test func undatedOrdersAreDecidedAndNeverMoveTheCursor() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        let page = walk.take(dates: [nil, t("2026-12-01T11:59:30"), nil], total: 3, totalPages: 1)
        #expect(page.toDecide == [0, 1, 2])
        #expect(page.cursor == t("2026-12-01T11:59:30"))
        var undated = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        #expect(undated.take(dates: [nil], total: 1, totalPages: 1).cursor == nil)
    }

    @Test func aWalkFromAfterTheCursorNeverMovesIt() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60, since: t("2026-12-01T13:00:00"))
        #expect(!walk.movesCursor)
        #expect(walk.take(dates: [t("2026-12-01T13:30:00")], total: 1, totalPages: 1).cursor == nil)
        var earlier = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60, since: t("2026-11-01T00:00:00"))
        #expect(earlier.movesCursor)
        #expect(earlier.take(dates: [t("2026-12-01T13:30:00")], total: 1, totalPages: 1).cursor == t("2026-12-01T13:30:00"))
    }

    @Test func aStoreThatNeverEndsIsCutOff() {
        var walk = WooCatchUpWalk(cursor: t("2026-12-01T12:00:00"), overlapSeconds: 60)
        let same = [WooModifiedTime?](repeating: t("2026-12-01T11:59:30"), count: 100)
        var pages = 0
        while walk.next != nil, pages < WooCatchUpWalk.maxRequests + 5 {
            _ = walk.take(dates: same, total: nil, totalPages: nil)
            pages += 1
        }
        #expect(pages == WooCatchUpWalk.maxRequests)
        #expect(walk.truncated)
    }

    /// Any store answer, in any order, with orders changing between pages: every order whose newest state was
    /// modified after the start and that stays put is offered for decision before the cursor passes it.
    @Test func keysetWalksNeverPassAnOrderTheyHaveNotOffered() {
        var random = SeededRandom(seed: 11)
        for _ in 0..<200 {
            let base = t("2026-12-01T00:00:00").milliseconds
            let count = Int.random(in: 0...450, using: &random)
            // Orders: id → modified second (many share one).
            var orders = (0..<count).map { id in (id: id, at: base + Int64.random(in: 0...300, using: &random) * 1000) }
            var walk = WooCatchUpWalk(cursor: WooModifiedTime(milliseconds: base + 200_000), overlapSeconds: 250)
            var offered = Set<Int>()
            var cursor: Int64 = .min
            var modifications: Int64 = 0
            while let request = walk.next {
                let matching = orders.filter { $0.at > request.modifiedAfter.milliseconds }.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
                let page = Array(matching.dropFirst((request.page - 1) * 100).prefix(100))
                let verdict = walk.take(dates: page.map { WooModifiedTime(milliseconds: $0.at) }, total: matching.count,
                                        totalPages: (matching.count + 99) / 100)
                for index in verdict.toDecide { offered.insert(page[index].id) }
                if let moved = verdict.cursor { cursor = max(cursor, moved.milliseconds) }
                // Now and then an order is modified while the walk goes on: it moves to the end, at a later second
                // than any before (the clock goes on). One modified after the last request is the next walk's.
                if walk.next != nil, !orders.isEmpty, Int.random(in: 0..<4, using: &random) == 0 {
                    let index = Int.random(in: 0..<orders.count, using: &random)
                    modifications += 1
                    orders[index].at = base + 300_000 + modifications * 1000
                    offered.remove(orders[index].id)
                }
            }
            for order in orders where order.at > walk.start.milliseconds && order.at <= cursor {
                #expect(offered.contains(order.id), "order \(order.id) at \(order.at - base) passed by the cursor \(cursor - base)")
            }
        }
    }
}
