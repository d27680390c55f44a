import Foundation

/// What the store already knows about an order, read in the same transaction that will insert the jobs.
public struct WooOrderMemory: Sendable, Equatable {
    /// The newest `date_modified_gmt` accepted so far for this store and order.
    public var newestModifiedGMT: String?
    /// Line ids that already have an enroll job.
    public var linesWithEnroll: Set<Int>
    /// Line ids that already have an unenroll job.
    public var linesWithUnenroll: Set<Int>
    /// Refund ids that already have a `woocommerce.refund` job.
    public var refundsSeen: Set<Int>
    /// Line ids sold as codes (their codes' mails exist).
    public var linesWithCodes: Set<Int>

    public init(newestModifiedGMT: String? = nil, linesWithEnroll: Set<Int> = [], linesWithUnenroll: Set<Int> = [],
                refundsSeen: Set<Int> = [], linesWithCodes: Set<Int> = []) {
        self.newestModifiedGMT = newestModifiedGMT
        self.linesWithEnroll = linesWithEnroll
        self.linesWithUnenroll = linesWithUnenroll
        self.refundsSeen = refundsSeen
        self.linesWithCodes = linesWithCodes
    }
}

public struct WooDecision: Sendable, Equatable {
    public enum Verdict: String, Sendable { case accepted, ignored, stale }
    public var verdict: Verdict
    /// Why ignored or stale; a short summary when accepted.
    public var reason: String?
    /// May name jobs that already exist: the store answers those with the existing job.
    public var jobs: [NewJob]
    /// What an operator reading the delivery should know: unmapped lines, quantities, lines not re-enrolled.
    public var notes: [String]
    /// What to store as the order's newest `date_modified_gmt`; nil leaves it as is.
    public var newestModifiedGMT: String?
    /// Lines selling several seats as codes: the seats each holds now.
    public var seats: [SeatGrant]
    /// The paid course lines, for the reports; `paidAt` is the store's to stamp. Recorded once per line.
    public var sales: [SaleLine]
    /// The order's refunds as `refunds[]` lists them (amount, no lines), for the reports. Recorded once per id.
    public var refunds: [RefundRecord]
    /// `sales` as the store keeps them (`SaleLine.linesJSON`), made with the decision: intake decides a new order
    /// before its one writer takes it, and the writer then stores this text as it is when every line is new.
    public var salesJSON: String?

    public init(verdict: Verdict, reason: String? = nil, jobs: [NewJob] = [], notes: [String] = [],
                newestModifiedGMT: String? = nil, seats: [SeatGrant] = [], sales: [SaleLine] = [], refunds: [RefundRecord] = []) {
        self.verdict = verdict
        self.reason = reason
        self.jobs = jobs
        self.notes = notes
        self.newestModifiedGMT = newestModifiedGMT
        self.seats = seats
        self.sales = sales
        self.refunds = refunds
        self.salesJSON = sales.isEmpty ? nil : SaleLine.linesJSON(sales)
    }
}

/// Turns one verified WooCommerce delivery into jobs. Pure: the same payload, memory and delivery id always give
/// the same decision, so a re-sent delivery finds the jobs it created the first time (by their dedupe keys).
public struct WooIntakeRules: Sendable {
    public let store: StoreConfig
    public let mapper: CourseMapper

    public init(store: StoreConfig, catalog: [CatalogEntry]) {
        self.store = store
        self.mapper = CourseMapper(store: store.id, catalog: catalog)
    }

    private var source: String { "woocommerce:\(store.id)" }

    public func decide(_ payload: WooPayload, memory: WooOrderMemory, deliveryID: String) -> WooDecision {
        switch payload {
        case .order(let order):
            return decide(order: order, memory: memory)
        case .deletedOrder(let id):
            return WooDecision(verdict: .ignored,
                               reason: "order \(id) moved to trash; enrollments are kept (refund the order to unenroll)")
        case .action(let name, let arg):
            return decide(action: name, arg: arg, deliveryID: deliveryID)
        case .other(let topic):
            return WooDecision(verdict: .ignored, reason: "topic \(topic) creates nothing")
        }
    }

    // MARK: Orders

    private func decide(order: WooOrder, memory: WooOrderMemory) -> WooDecision {
        let label = Self.label(order)
        // Deliveries arrive late and out of order; an older state must not undo a newer one (re-enroll after a refund).
        // Instants are compared, not texts: "2026-11-20 13:00:00" sorts before "2026-11-20T12:00:00" as text.
        let sent = order.dateModifiedGMT.flatMap(WooModifiedTime.init)
        if let knownText = memory.newestModifiedGMT, let known = WooModifiedTime(knownText) {
            guard let sent else {
                let what = order.dateModifiedGMT.map { "an unreadable date_modified_gmt \"\($0)\"" } ?? "no date_modified_gmt"
                return WooDecision(verdict: .stale,
                                   reason: "\(label) came with \(what), so it counts as the oldest state; \(known.canonical) GMT was already seen: it changes nothing")
            }
            if sent < known {
                return WooDecision(verdict: .stale,
                                   reason: "\(label) as modified at \(sent.canonical) GMT is older than \(known.canonical) GMT, already seen: a late delivery changes nothing")
            }
        }
        // Not older than what memory holds (checked above), so it is the newest; nil leaves memory as is.
        let newest = sent?.canonical

        var notes: [String] = []
        var mapped: [(line: WooLineItem, course: CourseMapping)] = []
        for line in order.lineItems {
            if let course = mapper.map(line) {
                mapped.append((line, course))
            } else {
                notes.append("line \(line.id) (\(Self.describe(line))) maps to no course run")
            }
        }

        var decision: WooDecision
        if store.enrollStatuses.contains(order.status) {
            decision = paid(order, label: label, mapped: mapped, memory: memory, notes: &notes)
        } else if store.unenrollStatuses.contains(order.status) {
            decision = refunded(order, label: label, mapped: mapped, memory: memory, notes: &notes)
        } else {
            decision = inert(order, label: label, mapped: mapped, memory: memory, notes: &notes)
        }
        decision.notes = notes
        decision.newestModifiedGMT = newest
        if !mapped.isEmpty, decision.verdict != .stale {
            decision.refunds = order.refunds.compactMap { refund in
                guard let total = refund.total.flatMap(Money.parse), total != 0 else { return nil }
                return RefundRecord(origin: .woocommerce, orderSource: .woocommerce, orderRef: WooKeys.saleReference(store: store.id, order: order.id),
                                    amount: abs(total), currency: order.currency ?? Self.unknownCurrency, reference: String(refund.id),
                                    at: Date(timeIntervalSince1970: 0))
            }
        }
        return decision
    }

    /// ISO 4217's "no currency", for an order that names none: its amounts are kept apart from every real currency's.
    public static let unknownCurrency = "XXX"

    private func sale(_ order: WooOrder, line: WooLineItem, course: CourseMapping, email: String, fulfilment: SaleLine.Fulfilment) -> SaleLine {
        let gross = line.subtotal ?? line.total ?? 0
        let discount = line.subtotal.flatMap { subtotal in line.total.map { max(0, subtotal - $0) } } ?? 0
        return SaleLine(source: .woocommerce, orderRef: WooKeys.saleReference(store: store.id, order: order.id), line: line.id,
                        courseID: course.courseID, mode: course.mode, email: email, quantity: line.quantity, fulfilment: fulfilment,
                        gross: gross, discount: discount, currency: order.currency ?? Self.unknownCurrency,
                        paidAt: Date(timeIntervalSince1970: 0),
                        enrollKey: fulfilment == .codes ? nil : WooKeys.enroll(store: store.id, order: order.id, line: line.id))
    }

    /// Paid: every course line enrolls the buyer. Quantity is ignored: the payload names one buyer, and seats for
    /// others would need their emails.
    private func paid(_ order: WooOrder, label: String, mapped: [(line: WooLineItem, course: CourseMapping)],
                      memory: WooOrderMemory, notes: inout [String]) -> WooDecision {
        guard !mapped.isEmpty else {
            return WooDecision(verdict: .ignored,
                               reason: "paid \(label) (\(order.status)): none of its \(order.lineItems.count) lines maps to a course run")
        }
        guard let email = order.billingEmail else {
            return WooDecision(verdict: .ignored, reason: "paid \(label) has no billing email: nothing can be enrolled")
        }
        var jobs: [NewJob] = []
        var seats: [SeatGrant] = []
        var sales: [SaleLine] = []
        var enrollments = 0
        for (line, course) in mapped {
            // Refunded lines stay refunded: a partial refund leaves the status paid, so every later update would
            // otherwise enroll the learner again.
            if memory.linesWithUnenroll.contains(line.id) {
                notes.append("line \(line.id) (\(course.courseID)) was unenrolled after a refund: it is not enrolled again")
                continue
            }
            if isSeatLine(line, memory) {
                seats.append(seatGrant(order, line: line, course: course, seats: line.quantity, email: email))
                sales.append(sale(order, line: line, course: course, email: email, fulfilment: .codes))
                continue
            }
            sales.append(sale(order, line: line, course: course, email: email, fulfilment: line.quantity > 1 ? .buyer : .single))
            if line.quantity > 1 {
                notes.append(memory.linesWithEnroll.contains(line.id)
                    ? "line \(line.id) quantity \(line.quantity): the buyer was enrolled for it before; no codes"
                    : "line \(line.id) quantity \(line.quantity): one enrollment for the buyer (seats: buyer)")
            }
            jobs.append(enroll(order, line: line, course: course, email: email))
            enrollments += 1
        }
        let refunds = unseenRefunds(order, memory)
        jobs += refunds.map { refundJob(order, refundID: $0, email: email, mapped: mapped, memory: memory) }
        guard !jobs.isEmpty || !seats.isEmpty else {
            return WooDecision(verdict: .ignored,
                               reason: "every course line of paid \(label) was unenrolled after a refund; none is enrolled again")
        }
        var summary = "paid \(label) (\(order.status)): \(Self.count(enrollments, "enrollment"))"
        if !seats.isEmpty { summary += ", \(Self.count(seats.reduce(0) { $0 + $1.seats }, "seat")) as codes" }
        if !refunds.isEmpty { summary += ", \(Self.count(refunds.count, "refund")) to check" }
        return WooDecision(verdict: .accepted, reason: summary, jobs: jobs, seats: seats, sales: sales)
    }

    /// Fully refunded: undo what was done. Only lines that were enrolled here are unenrolled, so a refund never
    /// removes a seat the learner got some other way. No refund jobs: every line is being undone already.
    private func refunded(_ order: WooOrder, label: String, mapped: [(line: WooLineItem, course: CourseMapping)],
                          memory: WooOrderMemory, notes: inout [String]) -> WooDecision {
        guard !mapped.isEmpty else {
            return WooDecision(verdict: .ignored,
                               reason: "refunded \(label): none of its \(order.lineItems.count) lines maps to a course run, nothing to unenroll")
        }
        // Seat lines never enrolled anyone: their unredeemed codes are voided (redeemed ones are for an operator).
        let seats = mapped.filter { isSeatLine($0.line, memory) }.map {
            seatGrant(order, line: $0.line, course: $0.course, seats: 0, email: order.billingEmail)
        }
        let enrolled = mapped.filter { memory.linesWithEnroll.contains($0.line.id) }
        for (line, course) in mapped where !memory.linesWithEnroll.contains(line.id) && !isSeatLine(line, memory) {
            notes.append("line \(line.id) (\(course.courseID)) was never enrolled here: nothing to unenroll")
        }
        if enrolled.isEmpty, !seats.isEmpty {
            return WooDecision(verdict: .accepted, reason: "refunded \(label): the codes of \(Self.count(seats.count, "line")) voided",
                               seats: seats)
        }
        guard !enrolled.isEmpty else {
            return WooDecision(verdict: .ignored,
                               reason: "refunded \(label): none of its course lines was enrolled here, nothing to unenroll")
        }
        guard let email = order.billingEmail else {
            return WooDecision(verdict: .ignored,
                               reason: "refunded \(label) has no billing email: nothing can be unenrolled")
        }
        let jobs = enrolled.map { unenroll(order, line: $0.line, course: $0.course, email: email) }
        return WooDecision(verdict: .accepted, reason: "refunded \(label): \(Self.count(jobs.count, "unenrollment"))",
                           jobs: jobs, seats: seats)
    }

    /// Any other status (drafts, pending, on-hold, failed, cancelled, trash, …) creates no enrollment and undoes
    /// none: only a refund says the money went back.
    private func inert(_ order: WooOrder, label: String, mapped: [(line: WooLineItem, course: CourseMapping)],
                       memory: WooOrderMemory, notes: inout [String]) -> WooDecision {
        var reason = "status \(order.status) creates nothing"
        guard !memory.linesWithEnroll.isEmpty || !memory.linesWithCodes.isEmpty else {
            notes = []
            return WooDecision(verdict: .ignored, reason: reason)
        }
        reason += memory.linesWithEnroll.isEmpty
            ? ": the codes already made for \(label) are kept; refunding the order voids the unredeemed ones"
            : ": the enrollments already made for \(label) are kept; refunding the order unenrolls"
        // A refund made just before the status change can arrive only in this delivery (WooCommerce builds the
        // payload when it sends it), and the refunded lines were enrolled: check it, as a paid order's would be.
        let refunds = unseenRefunds(order, memory)
        guard let email = order.billingEmail, !mapped.isEmpty, !refunds.isEmpty else {
            notes = []
            return WooDecision(verdict: .ignored, reason: reason)
        }
        let jobs = refunds.map { refundJob(order, refundID: $0, email: email, mapped: mapped, memory: memory) }
        return WooDecision(verdict: .accepted, reason: reason + "; \(Self.count(jobs.count, "refund")) to check",
                           jobs: jobs)
    }

    /// Refund ids not yet turned into jobs, oldest (lowest id) first: `refunds[]` lists the newest first, and
    /// refund jobs of one order run in creation order.
    private func unseenRefunds(_ order: WooOrder, _ memory: WooOrderMemory) -> [Int] {
        Set(order.refunds.map(\.id)).subtracting(memory.refundsSeen).sorted()
    }

    // MARK: Seats

    /// A line sold as codes: several seats (or codes made for it before, whatever its quantity now), the
    /// store's `seats: codes`, and no enrollment of the buyer for it already (a line that enrolled its buyer
    /// before keeps that).
    private func isSeatLine(_ line: WooLineItem, _ memory: WooOrderMemory) -> Bool {
        store.seats == .codes && !memory.linesWithEnroll.contains(line.id)
            && (line.quantity > 1 || memory.linesWithCodes.contains(line.id))
    }

    private func seatGrant(_ order: WooOrder, line: WooLineItem, course: CourseMapping, seats: Int, email: String?) -> SeatGrant {
        SeatGrant(store: store.id, orderID: order.id, orderNumber: order.number, lineID: line.id, courseID: course.courseID,
                  mode: course.mode, seats: seats, buyerEmail: email)
    }

    // MARK: Actions

    private func decide(action name: String, arg: JSONValue, deliveryID: String) -> WooDecision {
        guard name == "woocommerce_order_refunded" else {
            return WooDecision(verdict: .ignored, reason: "action \(name) creates nothing")
        }
        guard let orderID = Self.orderID(arg) else {
            return WooDecision(verdict: .ignored,
                               reason: "action \(name): arg \(WooOrderReader.brief(arg)) is not an order id")
        }
        // The hook names the order but not the refund, nor the lines: the handler reads every refund of the order.
        let payload = WooRefundJobPayload(store: store.id, orderID: orderID, orderNumber: String(orderID))
        let job = Self.job(.woocommerceRefund,
                           WooKeys.orderSync(store: store.id, order: orderID, delivery: deliveryID),
                           WooKeys.orderSerial(store: store.id, order: orderID), payload, source: source)
        return WooDecision(verdict: .accepted,
                           reason: "order \(orderID) was refunded: every refund of it is checked for course lines to unenroll",
                           jobs: [job])
    }

    private static func orderID(_ arg: JSONValue) -> Int? {
        switch arg {
        case .number, .string:
            guard let id = try? WooOrderReader.int(arg, "arg"), id > 0 else { return nil }
            return id
        default:
            return nil
        }
    }

    // MARK: Jobs

    private func enroll(_ order: WooOrder, line: WooLineItem, course: CourseMapping, email: String) -> NewJob {
        Self.job(.enroll, WooKeys.enroll(store: store.id, order: order.id, line: line.id),
                 SerialKey.enrollment(email: email, courseID: course.courseID),
                 EnrollPayload(email: email, courseID: course.courseID, mode: course.mode, orderReference: order.number),
                 source: source)
    }

    private func unenroll(_ order: WooOrder, line: WooLineItem, course: CourseMapping, email: String) -> NewJob {
        Self.job(.unenroll, WooKeys.unenroll(store: store.id, order: order.id, line: line.id),
                 SerialKey.enrollment(email: email, courseID: course.courseID),
                 UnenrollPayload(email: email, courseID: course.courseID, orderReference: order.number),
                 source: source)
    }

    private func refundJob(_ order: WooOrder, refundID: Int, email: String,
                           mapped: [(line: WooLineItem, course: CourseMapping)], memory: WooOrderMemory) -> NewJob {
        let lines = mapped.map {
            WooRefundJobPayload.Line(lineID: $0.line.id, courseID: $0.course.courseID, mode: $0.course.mode,
                                     quantity: $0.line.quantity, codes: isSeatLine($0.line, memory))
        }
        let payload = WooRefundJobPayload(store: store.id, orderID: order.id, orderNumber: order.number,
                                          refundID: refundID, email: email, lines: lines)
        return Self.job(.woocommerceRefund, WooKeys.refund(store: store.id, order: order.id, refund: refundID),
                        WooKeys.orderSerial(store: store.id, order: order.id), payload, source: source)
    }

    private static func job(_ kind: JobKind, _ dedupeKey: String, _ serialKey: String, _ payload: some JobPayload,
                            source: String) -> NewJob {
        NewJob(kind: kind, dedupeKey: dedupeKey, serialKey: serialKey, payload: payload.jsonText, source: source)
    }

    // MARK: Wording

    private static func label(_ order: WooOrder) -> String {
        order.number == String(order.id) ? "order \(order.id)" : "order \(order.id) (number \(order.number))"
    }

    private static func describe(_ line: WooLineItem) -> String {
        var parts: [String] = []
        if let name = line.name, !name.isEmpty { parts.append(name) }
        parts.append("product \(line.productID)")
        if line.variationID != 0 { parts.append("variation \(line.variationID)") }
        return parts.joined(separator: ", ")
    }

    private static func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }
}

extension WooOrderMemory {
    /// Whether a listed state of the order is one intake has already taken, or older: catch-up lists the same
    /// orders poll after poll (the overlap), and those change nothing and are not recorded again.
    public func hasSeen(modifiedGMT: String?) -> Bool {
        guard let knownText = newestModifiedGMT, let known = WooModifiedTime(knownText) else { return false }
        // An undated state counts as the oldest, as the staleness rule has it.
        guard let sent = modifiedGMT.flatMap(WooModifiedTime.init) else { return true }
        return sent <= known
    }
}
