import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

/// Organizations, contracts, their runs and learners as rows, read and written inside the caller's transaction.
enum ContractTables {
    static func createOrganization(name: String, key: String, now: Date, in db: Database) throws -> Organization {
        if try Row.fetchOne(db, sql: "SELECT 1 FROM organizations WHERE name = ?", arguments: [name]) != nil {
            throw ContractError.organizationTaken("the name \(name)")
        }
        if try Row.fetchOne(db, sql: "SELECT 1 FROM organizations WHERE key = ?", arguments: [key]) != nil {
            throw ContractError.organizationTaken("the key \(key)")
        }
        try db.execute(sql: "INSERT INTO organizations (name, key, slug, created_at) VALUES (?, ?, ?, ?)",
                       arguments: [name, key, OrganizationKey.slug(name), now])
        return Organization(id: db.lastInsertedRowID, name: name, key: key, slug: OrganizationKey.slug(name), createdAt: now)
    }

    static func organization(_ row: Row) -> Organization {
        Organization(id: row["id"], name: row["name"], key: row["key"], slug: row["slug"], createdAt: row["created_at"])
    }

    static func organization(named name: String, in db: Database) throws -> Organization? {
        try Row.fetchOne(db, sql: "SELECT * FROM organizations WHERE name = ?", arguments: [name]).map(organization)
    }

    static func terms(_ row: Row) -> ContractTerms {
        ContractTerms(integration: ContractIntegration(rawValue: row["integration"]) ?? .nonSSO, start: row["start_date"], end: row["end_date"],
                      maxLearners: row["max_learners"], price: Money.parse(row["price"]) ?? 0, currency: row["currency"], active: row["active"])
    }

    static func describe(_ terms: ContractTerms) -> String {
        "\(terms.integration.rawValue), \(terms.start ?? "no start")…\(terms.end ?? "no end"), "
            + (terms.maxLearners.map { "cap \($0)" } ?? "uncapped") + ", "
            + (terms.price > 0 ? "\(Money.format(terms.price)) \(terms.currency ?? "")" : "free") + (terms.active ? "" : ", inactive")
    }

    static func run(_ row: Row) -> ContractRun {
        ContractRun(courseID: row["course_id"], contractID: row["contract_id"], sourceID: row["source_id"],
                    state: ContractRunState(rawValue: row["state"]) ?? .failed, attached: row["attached"], error: row["error"])
    }

    static func contract(_ id: Int64, in db: Database) throws -> Contract? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM contracts WHERE id = ?", arguments: [id]),
              let org = try Row.fetchOne(db, sql: "SELECT * FROM organizations WHERE id = ?", arguments: [row["org_id"] as Int64])
        else { return nil }
        var runs = try Row.fetchAll(db, sql: "SELECT * FROM contract_runs WHERE contract_id = ? ORDER BY created_at, course_id",
                                    arguments: [id]).map(run)
        let counts = try Row.fetchAll(db, sql: """
            SELECT course_id, state, count(*) AS n FROM codes INDEXED BY codes_source WHERE source = 'contract' AND source_ref = ?
            GROUP BY course_id, state
            """, arguments: [String(id)])
        for count in counts {
            guard let index = runs.firstIndex(where: { $0.courseID == count["course_id"] as String }) else { continue }
            switch CodeState(rawValue: count["state"]) {
            case .active: runs[index].codes.active = count["n"]
            case .redeemed: runs[index].codes.redeemed = count["n"]
            case .void: runs[index].codes.void = count["n"]
            case nil: break
            }
        }
        let learners = try Int.fetchOne(db, sql: "SELECT count(*) FROM contract_learners WHERE contract_id = ?", arguments: [id]) ?? 0
        return Contract(id: id, organization: organization(org), name: row["name"], slug: row["slug"], description: row["description"],
                        terms: terms(row), overCap: row["over_cap"], learners: learners, runs: runs, createdBy: row["created_by"],
                        createdAt: row["created_at"])
    }

    /// One `contract.sync`, unless one is queued already: it will read the newest terms when it runs.
    static func enqueueSync(_ id: Int64, maxAttempts: Int, now: Date, in db: Database) throws {
        let serial = ContractKeys.serial(contract: id)
        if try Row.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE serial_key = ? AND state = 'queued' AND kind = ?",
                            arguments: [serial, JobKind.contractSync.rawValue]) != nil { return }
        try db.execute(sql: "UPDATE contracts SET sync_generation = sync_generation + 1 WHERE id = ?", arguments: [id])
        let generation = try Int.fetchOne(db, sql: "SELECT sync_generation FROM contracts WHERE id = ?", arguments: [id]) ?? 0
        _ = try JobTable.insert([NewJob(kind: .contractSync, dedupeKey: ContractKeys.sync(contract: id, generation: generation),
                                        serialKey: serial, payload: ContractSyncPayload(contractID: id).jsonText, source: "contract:\(id)")],
                                deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
    }

    /// - Parameter attachment: when the learner was attached (milliseconds): a new attachment enrolls again.
    static func enrollJob(contract id: Int64, email: String, run: String, attachment: Int64) -> NewJob {
        NewJob(kind: .enroll, dedupeKey: ContractKeys.enroll(contract: id, email: email, run: run, attachment: attachment),
               serialKey: SerialKey.enrollment(email: email, courseID: run),
               payload: EnrollPayload(email: email, courseID: run, orderReference: "contract-\(id)").jsonText, source: "contract:\(id)")
    }

    /// The contract's attached (SSO) learners enrolled in a run that has become ready.
    static func enrollAttached(contract id: Int64, run: String, maxAttempts: Int, now: Date, in db: Database) throws {
        let learners = try Row.fetchAll(db, sql: "SELECT email, since FROM contract_learners WHERE contract_id = ? AND source = 'attach'",
                                        arguments: [id])
        _ = try JobTable.insert(learners.map { enrollJob(contract: id, email: $0["email"], run: run, attachment: attachment($0["since"])) },
                                deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
    }

    static func attachment(_ since: Date) -> Int64 { Int64((since.timeIntervalSince1970 * 1000).rounded())
    }

    /// What a contract code's redemption must know of its contract; nil for a code of no contract.
    static func gate(for record: CodeRecord, email: String, now: Date, in db: Database) throws -> ContractGate? {
        guard record.source == "contract", let id = Int64(record.sourceReference) else { return nil }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM contracts WHERE id = ?"), arguments: [id]) else {
            return ContractGate(inForce: false, maxLearners: nil, learners: 0, isLearner: false)
        }
        let attached = try Bool.fetchOne(db.cachedStatement(sql: "SELECT attached FROM contract_runs WHERE course_id = ? AND contract_id = ?"),
                                         arguments: [record.courseID, id]) ?? false
        // Places taken: the learners, and others holding a seat while they pay (the asker's own hold is theirs).
        let learners = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT (SELECT count(*) FROM contract_learners WHERE contract_id = ?1)
                 + (SELECT count(DISTINCT h.email) FROM code_holds h JOIN codes c ON c.code = h.code
                    WHERE c.source = 'contract' AND c.source_ref = ?2 AND h.state = 'held' AND h.expires_at > ?3 AND h.email <> ?4
                      AND h.email NOT IN (SELECT email FROM contract_learners WHERE contract_id = ?1))
            """), arguments: [id, String(id), StoredDate.text(now), email]) ?? 0
        let isLearner = try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM contract_learners WHERE contract_id = ? AND email = ?"),
                                         arguments: [id, email]) != nil
        let terms = terms(row)
        return ContractGate(inForce: attached && terms.inForce(on: ContractTerms.day(now)), maxLearners: terms.maxLearners,
                            learners: learners, isLearner: isLearner)
    }

    /// A learner who redeemed one of the contract's codes is one of its learners.
    static func recordLearner(for record: CodeRecord, email: String, now: Date, in db: Database) throws {
        guard record.source == "contract", let id = Int64(record.sourceReference) else { return }
        try db.cachedStatement(sql: "INSERT INTO contract_learners (contract_id, email, source, since) VALUES (?, ?, 'code', ?) ON CONFLICT DO NOTHING")
            .execute(arguments: [id, email, now])
    }

    /// `contract.sync`: the plan of `ContractSync` over the contract's runs and live codes, applied.
    static func sync(_ id: Int64, now: Date, in db: Database) throws -> ContractSyncOutcome {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM contracts WHERE id = ?", arguments: [id]) else {
            throw ContractError.unknownContract(id)
        }
        let terms = terms(row)
        let runRows = try Row.fetchAll(db, sql: "SELECT course_id, attached FROM contract_runs WHERE contract_id = ? ORDER BY course_id",
                                       arguments: [id])
        var runs = runRows.map { ContractSync.Run(courseID: $0["course_id"], attached: $0["attached"]) }
        // A seat held while its learner pays counts as taken: the sync neither voids nor reprices it.
        let codes = try Row.fetchAll(db, sql: """
            SELECT c.id, c.code, c.course_id, c.unlimited, c.price, c.currency,
                   (SELECT group_concat(email, ' ') FROM (
                        SELECT r.email FROM code_redemptions r WHERE r.code = c.code
                        UNION SELECT h.email FROM code_holds h WHERE h.code = c.code AND h.state = 'held' AND h.expires_at > ?2)) AS redeemed_by
            FROM codes c INDEXED BY codes_source WHERE c.source = 'contract' AND c.source_ref = ?1 AND c.state <> 'void' ORDER BY c.id
            """, arguments: [String(id), StoredDate.text(now)])
        for code in codes {
            guard let index = runs.firstIndex(where: { $0.courseID == code["course_id"] as String }),
                  case .success(let parsed) = RegistrationCode.parse(code["code"] as String) else { continue }
            runs[index].codes.append(ContractSync.Code(
                id: code["id"], code: parsed, unlimited: code["unlimited"], price: Money.parse(code["price"]) ?? 0, currency: code["currency"],
                redeemedBy: (code["redeemed_by"] as String?)?.split(separator: " ").map(String.init) ?? []))
        }
        let learners = try Int.fetchOne(db, sql: "SELECT count(*) FROM contract_learners WHERE contract_id = ?", arguments: [id]) ?? 0
        let plan = ContractSync.plan(terms: terms, runs: runs, learners: learners)
        var outcome = ContractSyncOutcome()
        outcome.overCap = plan.overCap
        let actor = "contract.sync:\(id)"
        for change in plan.changes {
            if !change.void.isEmpty {
                try CodeTable.void(change.void, reason: change.voidReason, actor: actor, now: now, in: db)
                outcome.voided += change.void.count
            }
            let setKind = try db.cachedStatement(sql: "UPDATE codes SET unlimited = ? WHERE code = ?")
            for code in change.makeUnlimited { try setKind.execute(arguments: [true, code.value]) }
            for code in change.makeOneTime { try setKind.execute(arguments: [false, code.value]) }
            outcome.converted += change.makeUnlimited.count + change.makeOneTime.count
            let reprice = try db.cachedStatement(sql: "UPDATE codes SET price = ?, currency = ? WHERE code = ?")
            for code in change.reprice { try reprice.execute(arguments: [Money.format(terms.price), terms.currency, code.value]) }
            outcome.repriced += change.reprice.count
            if change.create > 0 {
                outcome.created += try CodeTable.create(NewCodes(count: change.create, courseID: change.courseID, mode: nil, source: "contract",
                                                                 sourceReference: String(id), price: terms.price, currency: terms.currency),
                                                        now: now, in: db).count
            }
            if change.createUnlimited {
                outcome.created += try CodeTable.create(NewCodes(count: 1, courseID: change.courseID, mode: nil, source: "contract",
                                                                 sourceReference: String(id), unlimited: true, price: terms.price,
                                                                 currency: terms.currency), now: now, in: db).count
            }
        }
        try db.execute(sql: "UPDATE contracts SET over_cap = ? WHERE id = ?", arguments: [plan.overCap, id])
        return outcome
    }
}
