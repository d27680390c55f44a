import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: CodeBook {
    public func createCodes(_ request: NewCodes) async throws -> [CodeRecord] {
        try await write { tx in try await CodeRows.create(request, in: tx) }
    }

    public func code(_ code: RegistrationCode) async throws -> CodeRecord? {
        try await snapshot { tx in try await CodeRows.record(code, in: tx) }
    }

    public func codes(_ filter: CodeFilter) async throws -> [CodeRecord] {
        try await snapshot { tx in
            var q = QueryBuilder()
            var conditions: [String] = []
            if let course = filter.courseID { conditions.append("course_id = \(q.bind(course))") }
            if let source = filter.source { conditions.append("source = \(q.bind(source))") }
            if let reference = filter.sourceReference { conditions.append("source_ref = \(q.bind(reference))") }
            if let state = filter.state { conditions.append("state = \(q.bind(state.rawValue))") }
            if let prefixes = filter.coursePrefixes {
                guard !prefixes.isEmpty else { return [] }
                // starts_with, not LIKE: a course key may hold "_", which LIKE takes for any character.
                conditions.append("(" + prefixes.map { "starts_with(course_id, \(q.bind($0)))" }.joined(separator: " OR ") + ")")
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let limit = q.bind(filter.limit)
            return try await CodeRows.records(tx.rows(q.query("SELECT * FROM codes \(whereClause) ORDER BY id DESC LIMIT \(limit)")), in: tx)
        }
    }

    public func redeem(_ code: RegistrationCode, email: String, checkout: CodeCheckout?) async throws -> RedemptionOutcome {
        let outcome = try await write { tx -> RedemptionOutcome in
            guard let record = try await CodeRows.lockForRedemption(code, in: tx) else { return .unknownCode }
            var facts = record.facts
            // Only a priced code's seat is ever held: a free code's redemption reads nothing more.
            let holds = record.price > 0 ? try await CodeHolds.live(code, in: tx) : []
            facts.heldBy = holds.map(\.email)
            facts.contract = try await ContractRows.gate(for: record, email: email, in: tx)
            switch RedemptionRules.decide(facts, email: email) {
            case .refused(let refusal):
                return .refused(refusal, record)
            case .paymentRequired:
                guard let checkout else { return .paymentRequired(record, order: nil) }
                let order = try await CodeHolds.hold(record, email: email, checkout: checkout, in: tx)
                return .paymentRequired(record, order: try await OrderRows.order(order.reference, in: tx))
            case .paymentPending:
                guard let reference = holds.first(where: { $0.email == email })?.order else { return .paymentRequired(record, order: nil) }
                return .paymentRequired(record, order: try await OrderRows.order(reference, in: tx))
            case .alreadyRedeemed:
                return .alreadyRedeemed(record, jobID: record.redemptions.first { $0.email == email }?.jobID)
            case .redeem:
                // The enrollment's order attribute: the order line or invoice, or the contract.
                let reference = record.source == "contract" ? "contract-\(record.sourceReference)" : record.sourceReference
                let jobs = try await CodeRows.recordRedemption(record, email: email, orderReference: reference, deliveryID: nil, in: tx)
                var updated = record
                updated.state = RedemptionRules.stateAfterRedemption(unlimited: record.unlimited)
                updated.redemptions.append(.init(email: email, at: tx.now, jobID: jobs[0].id))
                return .redeemed(updated, jobID: jobs[0].id)
            }
        }
        if case .redeemed = outcome { jobsMayRun() }
        return outcome
    }

    public func voidCodes(_ codes: [RegistrationCode], reason: String, actor: String) async throws -> [CodeRecord] {
        try await write { tx in
            try await CodeRows.void(codes, reason: reason, actor: actor, in: tx)
            var records: [CodeRecord] = []
            for code in codes { if let record = try await CodeRows.record(code, in: tx) { records.append(record) } }
            return records
        }
    }

    public func revoke(_ code: RegistrationCode, email: String, actor: String) async throws -> RevokeOutcome {
        let outcome = try await write { tx -> RevokeOutcome in
            guard let record = try await CodeRows.record(code, lock: true, in: tx) else { return .unknownCode }
            guard record.redemptions.contains(where: { $0.email == email }) else { return .notRedeemedBy(record) }
            try await CodeRows.void([code], reason: "revoked: \(email) unenrolled", actor: actor, in: tx)
            let jobs = try await tx.insert([record.revokeJob(email: email)], deliveryID: nil)
            try await tx.audit(actor: actor, action: "revoke", jobID: jobs[0].id, detail: "code \(code.logSafe) revoked for \(email)")
            guard let updated = try await CodeRows.record(code, in: tx) else { return .unknownCode }
            return .revoked(updated, unenrollJobID: jobs[0].id)
        }
        if case .revoked = outcome { jobsMayRun() }
        return outcome
    }
}

/// The codes and their redemptions, inside the caller's transaction.
enum CodeRows {
    static func create(_ request: NewCodes, in tx: Tx) async throws -> [CodeRecord] {
        var made: [CodeRecord] = []
        while made.count < request.count {
            let code = RegistrationCode.generate()
            // A collision (one in 2^60 per pair) inserts nothing: another code is drawn.
            guard try await tx.exists("""
                INSERT INTO codes (code, course_id, mode, source, source_ref, unlimited, price, currency, state, created_at)
                VALUES (\(code.value), \(request.courseID), \(request.mode), \(request.source), \(request.sourceReference),
                        \(request.unlimited), \(Money.format(request.price)), \(request.currency), 'active', \(tx.now))
                ON CONFLICT (code) DO NOTHING RETURNING 1
                """) else { continue }
            made.append(CodeRecord(code: code, courseID: request.courseID, mode: request.mode, source: request.source,
                                   sourceReference: request.sourceReference, unlimited: request.unlimited, price: request.price,
                                   currency: request.currency, state: .active, createdAt: tx.now))
        }
        return made
    }

    /// Records one learner's redemption with its enroll job (dedupe key `code:<code>:<email>`) and the code's new state.
    static func recordRedemption(_ record: CodeRecord, email: String, orderReference: String?, deliveryID: Int64?,
                                 in tx: Tx) async throws -> [EnqueuedJob] {
        let code = record.code
        let jobs = try await tx.insert([record.enrollJob(email: email, orderReference: orderReference)], deliveryID: deliveryID)
        try await tx.run("INSERT INTO code_redemptions (code, email, redeemed_at, job_id) VALUES (\(code.value), \(email), \(tx.now), \(jobs[0].id))")
        try await ContractRows.recordLearner(for: record, email: email, in: tx)
        let state = RedemptionRules.stateAfterRedemption(unlimited: record.unlimited)
        if state != record.state { try await tx.run("UPDATE codes SET state = \(state.rawValue) WHERE code = \(code.value)") }
        return jobs
    }

    /// Voids the codes not void already; a void code keeps its first reason.
    static func void(_ codes: [RegistrationCode], reason: String, actor: String, in tx: Tx) async throws {
        guard !codes.isEmpty else { return }
        try await tx.run("""
            UPDATE codes SET state = 'void', void_reason = \(reason), voided_at = \(tx.now), voided_by = \(actor)
            WHERE code = ANY(\(codes.map(\.value))) AND state <> 'void'
            """)
    }

    static func record(_ code: RegistrationCode, lock: Bool = false, in tx: Tx) async throws -> CodeRecord? {
        guard let row = try await tx.row("SELECT * FROM codes WHERE code = \(code.value)\(unescaped: lock ? " FOR UPDATE" : "")") else {
            return nil
        }
        return try await records([row], in: tx).first
    }

    /// The code, locked, and its contract's row too for a contract's code (whose cap counts every code's
    /// learners): whatever decides about a redemption reads them after anyone else deciding about them is done.
    static func lockForRedemption(_ code: RegistrationCode, in tx: Tx) async throws -> CodeRecord? {
        guard let record = try await record(code, lock: true, in: tx) else { return nil }
        if record.source == "contract", let id = Int64(record.sourceReference) {
            try await tx.run("SELECT 1 FROM contracts WHERE id = \(id) FOR UPDATE")
        }
        return record
    }

    static func records(_ rows: [PostgresRandomAccessRow], in tx: Tx) async throws -> [CodeRecord] {
        var records: [CodeRecord] = []
        for r in rows {
            let text: String = try r.value("code")
            guard case .success(let code) = RegistrationCode.parse(text) else { throw StoreError.corrupt("code row holds \"\(text.prefix(4))…\"") }
            let stateText: String = try r.value("state")
            guard let state = CodeState(rawValue: stateText) else { throw StoreError.corrupt("code \(code) has state \"\(stateText)\"") }
            let redemptions = try await tx.rows("""
                SELECT email, redeemed_at, job_id FROM code_redemptions WHERE code = \(text) ORDER BY redeemed_at, email
                """).map { CodeRecord.Redemption(email: try $0.value("email"), at: try $0.value("redeemed_at"), jobID: try $0.value("job_id")) }
            records.append(CodeRecord(code: code, courseID: try r.value("course_id"), mode: try r.value("mode"), source: try r.value("source"),
                                      sourceReference: try r.value("source_ref"), unlimited: try r.value("unlimited"),
                                      price: Money.parse(try r.value("price")) ?? 0, currency: try r.value("currency"), state: state,
                                      createdAt: try r.value("created_at"), voidReason: try r.value("void_reason"),
                                      voidedAt: try r.value("voided_at"), voidedBy: try r.value("voided_by"), redemptions: redemptions))
        }
        return records
    }
}

/// A seat line's codes brought in line with the seats it holds, inside the transaction that records the order's
/// delivery (or payment, or refund): new codes and a mail to the buyer, or unredeemed ones voided newest first;
/// seats taken back beyond the unredeemed codes leave the redeemed ones alone and say so.
enum Seats {
    struct Outcome {
        var notes: [String] = []
        /// Set when seats were taken back beyond the unredeemed codes: the order needs an operator.
        var shortfall: String?
    }

    /// A WooCommerce seat line, less the seats its refunds gave back. A shortfall flags the order once.
    static func apply(_ grant: SeatGrant, deliveryID: Int64?, in tx: Tx) async throws -> [String] {
        let refunded = try await tx.value("""
            SELECT seats FROM woo_seat_refunds WHERE store = \(grant.store) AND order_id = \(grant.orderID) AND line_id = \(grant.lineID)
            """, as: Int.self) ?? 0
        let line = SeatLine(grant, refunded: refunded)
        let outcome = try await apply(line, deliveryID: deliveryID, in: tx)
        if let shortfall = outcome.shortfall {
            try await tx.run("""
                UPDATE woo_orders SET attention = \(OrderAttention.refundExceedsUnredeemedSeats.rawValue), attention_detail = \(shortfall),
                                      attention_at = \(tx.now)
                WHERE store = \(grant.store) AND order_id = \(grant.orderID) AND attention_detail IS DISTINCT FROM \(shortfall)
                """)
        }
        return outcome.notes
    }

    /// Records the seats refunds gave back on a line (never fewer than before) and brings its codes in line.
    static func refund(_ refund: SeatRefund, deliveryID: Int64?, in tx: Tx) async throws -> [String] {
        try await tx.run("""
            INSERT INTO woo_seat_refunds (store, order_id, line_id, seats, updated_at)
            VALUES (\(refund.grant.store), \(refund.grant.orderID), \(refund.grant.lineID), \(refund.refunded), \(tx.now))
            ON CONFLICT (store, order_id, line_id) DO UPDATE SET seats = greatest(woo_seat_refunds.seats, excluded.seats),
                                                                  updated_at = excluded.updated_at
            """)
        return try await apply(refund.grant, deliveryID: deliveryID, in: tx)
    }

    static func apply(_ grant: SeatLine, deliveryID: Int64?, in tx: Tx) async throws -> Outcome {
        // The line's codes locked first, then read: a redemption of one of them is either done and seen, or waits.
        try await tx.run("""
            SELECT 1 FROM codes WHERE source = 'order' AND source_ref = \(grant.sourceReference) AND state <> 'void' FOR UPDATE
            """)
        let live = try await tx.rows("""
            SELECT c.id, c.code, (SELECT string_agg(r.email, ' ') FROM code_redemptions r WHERE r.code = c.code) AS redeemed_by
            FROM codes c WHERE c.source = 'order' AND c.source_ref = \(grant.sourceReference) AND c.state <> 'void' ORDER BY c.id
            """).compactMap { r -> SeatRules.LiveCode? in
            guard case .success(let code) = RegistrationCode.parse(try r.value("code", as: String.self)) else { return nil }
            let redeemed = try r.value("redeemed_by", as: String?.self)?.split(separator: " ").map(String.init) ?? []
            return SeatRules.LiveCode(id: try r.value("id"), code: code, redeemedBy: redeemed)
        }
        let plan = SeatRules.plan(seats: grant.seats, live: live)
        var made: [CodeRecord] = []
        if plan.create > 0 {
            made = try await CodeRows.create(NewCodes(count: plan.create, courseID: grant.courseID, mode: grant.mode, source: "order",
                                                      sourceReference: grant.sourceReference), in: tx)
            if let email = grant.buyerEmail {
                _ = try await tx.insert([grant.mailJob(to: email, made: made.map(\.code), liveAfter: live.count + made.count)],
                                        deliveryID: deliveryID)
            }
        }
        if !plan.void.isEmpty { try await CodeRows.void(plan.void, reason: grant.voidReason, actor: grant.actor, in: tx) }
        let report = grant.report(plan: plan, made: made.count, liveBefore: live.count)
        return Outcome(notes: report.notes, shortfall: report.shortfall)
    }
}
