import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: CodeBook {
    public func createCodes(_ request: NewCodes) async throws -> [CodeRecord] {
        let now = clock.now()
        return try await write { db in try CodeTable.create(request, now: now, in: db) }
    }

    public func code(_ code: RegistrationCode) async throws -> CodeRecord? {
        try await read { db in try CodeTable.record(code, in: db) }
    }

    public func codes(_ filter: CodeFilter) async throws -> [CodeRecord] {
        try await read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let course = filter.courseID { conditions.append("course_id = ?"); arguments.append(course) }
            if let source = filter.source { conditions.append("source = ?"); arguments.append(source) }
            if let reference = filter.sourceReference { conditions.append("source_ref = ?"); arguments.append(reference) }
            if let state = filter.state { conditions.append("state = ?"); arguments.append(state.rawValue) }
            if let prefixes = filter.coursePrefixes {
                guard !prefixes.isEmpty else { return [] }
                // substr, not LIKE: a course key may hold "_", which LIKE takes for any character.
                conditions.append("(" + prefixes.map { _ in "substr(course_id, 1, ?) = ?" }.joined(separator: " OR ") + ")")
                for prefix in prefixes { arguments += [prefix.count, prefix] }
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM codes \(whereClause) ORDER BY id DESC LIMIT ?",
                                        arguments: StatementArguments(arguments + [filter.limit]))
            return try CodeTable.records(rows, in: db)
        }
    }

    public func redeem(_ code: RegistrationCode, email: String, checkout: CodeCheckout?) async throws -> RedemptionOutcome {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let outcome = try await write { db -> RedemptionOutcome in
            guard let record = try CodeTable.record(code, in: db) else { return .unknownCode }
            var facts = record.facts
            // Only a priced code's seat is ever held: a free code's redemption reads nothing more.
            let holds = record.price > 0 ? try CodeHoldTable.live(code, now: now, in: db) : []
            facts.heldBy = holds.map(\.email)
            facts.contract = try ContractTables.gate(for: record, email: email, now: now, in: db)
            switch RedemptionRules.decide(facts, email: email) {
            case .refused(let refusal):
                return .refused(refusal, record)
            case .paymentRequired:
                guard let checkout else { return .paymentRequired(record, order: nil) }
                let order = try CodeHoldTable.hold(record, email: email, checkout: checkout, now: now, in: db)
                return .paymentRequired(record, order: try Self.order(order.reference, in: db))
            case .paymentPending:
                let reference = holds.first { $0.email == email }?.order
                return .paymentRequired(record, order: try reference.flatMap { try Self.order($0, in: db) })
            case .alreadyRedeemed:
                return .alreadyRedeemed(record, jobID: record.redemptions.first { $0.email == email }?.jobID)
            case .redeem:
                // The enrollment's order attribute: the order line or invoice, or the contract.
                let reference = record.source == "contract" ? "contract-\(record.sourceReference)" : record.sourceReference
                let jobs = try CodeTable.recordRedemption(record, email: email, orderReference: reference, deliveryID: nil,
                                                          maxAttempts: maxAttempts, now: now, in: db)
                var updated = record
                updated.state = RedemptionRules.stateAfterRedemption(unlimited: record.unlimited)
                updated.redemptions.append(.init(email: email, at: now, jobID: jobs[0].id))
                return .redeemed(updated, jobID: jobs[0].id)
            }
        }
        if case .redeemed = outcome { jobsMayRun() }
        return outcome
    }

    public func voidCodes(_ codes: [RegistrationCode], reason: String, actor: String) async throws -> [CodeRecord] {
        let now = clock.now()
        return try await write { db in
            try CodeTable.void(codes, reason: reason, actor: actor, now: now, in: db)
            return try codes.compactMap { try CodeTable.record($0, in: db) }
        }
    }

    public func revoke(_ code: RegistrationCode, email: String, actor: String) async throws -> RevokeOutcome {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let outcome = try await write { db -> RevokeOutcome in
            guard let record = try CodeTable.record(code, in: db) else { return .unknownCode }
            guard record.redemptions.contains(where: { $0.email == email }) else { return .notRedeemedBy(record) }
            try CodeTable.void([code], reason: "revoked: \(email) unenrolled", actor: actor, now: now, in: db)
            let jobs = try JobTable.insert([record.revokeJob(email: email)], deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
            try db.execute(sql: "INSERT INTO operator_actions (at, actor, action, job_id, detail) VALUES (?, ?, 'revoke', ?, ?)",
                           arguments: [StoredDate.text(now), actor, jobs[0].id, "code \(code.logSafe) revoked for \(email)"])
            guard let updated = try CodeTable.record(code, in: db) else { return .unknownCode }
            return .revoked(updated, unenrollJobID: jobs[0].id)
        }
        if case .revoked = outcome { jobsMayRun() }
        return outcome
    }
}

/// The codes and their redemptions, read and written inside the caller's transaction.
enum CodeTable {
    static func create(_ request: NewCodes, now: Date, in db: Database) throws -> [CodeRecord] {
        var made: [CodeRecord] = []
        let insert = try db.cachedStatement(sql: """
            INSERT INTO codes (code, course_id, mode, source, source_ref, unlimited, price, currency, state, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?) ON CONFLICT(code) DO NOTHING
            """)
        let created = StoredDate.text(now)
        while made.count < request.count {
            let code = RegistrationCode.generate()
            try insert.execute(arguments: [code.value, request.courseID, request.mode, request.source, request.sourceReference,
                                           request.unlimited, Money.format(request.price), request.currency, created])
            // A collision (one in 2^60 per pair) changed nothing: another code is drawn.
            guard db.changesCount == 1 else { continue }
            made.append(CodeRecord(code: code, courseID: request.courseID, mode: request.mode, source: request.source,
                                   sourceReference: request.sourceReference, unlimited: request.unlimited, price: request.price,
                                   currency: request.currency, state: .active, createdAt: now))
        }
        return made
    }

    /// Records one learner's redemption with its enroll job (dedupe key `code:<code>:<email>`) and the code's new
    /// state. Returns the job.
    static func recordRedemption(_ record: CodeRecord, email: String, orderReference: String?, deliveryID: Int64?, maxAttempts: Int,
                                 now: Date, in db: Database) throws -> [EnqueuedJob] {
        let code = record.code
        let jobs = try JobTable.insert([record.enrollJob(email: email, orderReference: orderReference)], deliveryID: deliveryID, defaultMaxAttempts: maxAttempts, now: now, in: db)
        try db.cachedStatement(sql: "INSERT INTO code_redemptions (code, email, redeemed_at, job_id) VALUES (?, ?, ?, ?)")
            .execute(arguments: [code.value, email, StoredDate.text(now), jobs[0].id])
        try ContractTables.recordLearner(for: record, email: email, now: now, in: db)
        let state = RedemptionRules.stateAfterRedemption(unlimited: record.unlimited)
        if state != record.state {
            try db.cachedStatement(sql: "UPDATE codes SET state = ? WHERE code = ?").execute(arguments: [state.rawValue, code.value])
        }
        return jobs
    }

    /// Voids the codes not void already; a void code keeps its first reason.
    static func void(_ codes: [RegistrationCode], reason: String, actor: String, now: Date, in db: Database) throws {
        let update = try db.cachedStatement(sql: """
            UPDATE codes SET state = 'void', void_reason = ?, voided_at = ?, voided_by = ? WHERE code = ? AND state <> 'void'
            """)
        let at = StoredDate.text(now)
        for code in codes { try update.execute(arguments: [reason, at, actor, code.value]) }
    }

    static func record(_ code: RegistrationCode, in db: Database) throws -> CodeRecord? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM codes WHERE code = ?"), arguments: [code.value]) else {
            return nil
        }
        return try records([row], in: db).first
    }

    static func records(_ rows: [Row], in db: Database) throws -> [CodeRecord] {
        try rows.map { row in
            let text: String = row["code"]
            guard case .success(let code) = RegistrationCode.parse(text) else { throw StoreError.corrupt("code row holds \"\(text.prefix(4))…\"") }
            let stateText: String = row["state"]
            guard let state = CodeState(rawValue: stateText) else { throw StoreError.corrupt("code \(code) has state \"\(stateText)\"") }
            let redemptions = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT email, redeemed_at, job_id FROM code_redemptions WHERE code = ? ORDER BY redeemed_at, email
                """), arguments: [text]).map { CodeRecord.Redemption(email: $0["email"], at: $0["redeemed_at"], jobID: $0["job_id"]) }
            return CodeRecord(code: code, courseID: row["course_id"], mode: row["mode"], source: row["source"],
                              sourceReference: row["source_ref"], unlimited: row["unlimited"],
                              price: Money.parse(row["price"]) ?? 0, currency: row["currency"], state: state,
                              createdAt: row["created_at"], voidReason: row["void_reason"], voidedAt: row["voided_at"],
                              voidedBy: row["voided_by"], redemptions: redemptions)
        }
    }
}
