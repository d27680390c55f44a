import Foundation
import PostgresNIO
import RegistrarCore
import RegistrarStore

extension PostgresStore: ContractBook {
    public func createOrganization(name: String, key: String) async throws -> Organization {
        if let problem = OrganizationKey.problem(key) { throw ContractError.invalid(problem) }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ContractError.invalid("the organization's name is empty") }
        return try await write { tx in
            try await tx.lock("organizations")
            if try await tx.exists("SELECT 1 FROM organizations WHERE name = \(trimmed)") { throw ContractError.organizationTaken("the name \(trimmed)") }
            if try await tx.exists("SELECT 1 FROM organizations WHERE key = \(key)") { throw ContractError.organizationTaken("the key \(key)") }
            guard let id = try await tx.value("""
                INSERT INTO organizations (name, key, slug, created_at) VALUES (\(trimmed), \(key), \(OrganizationKey.slug(trimmed)), \(tx.now))
                RETURNING id
                """, as: Int64.self) else { throw StoreError.corrupt("an organization was inserted without an id") }
            return Organization(id: id, name: trimmed, key: key, slug: OrganizationKey.slug(trimmed), createdAt: tx.now)
        }
    }

    public func organizations() async throws -> [Organization] {
        try await snapshot { tx in try await tx.rows("SELECT * FROM organizations ORDER BY name").map(ContractRows.organization) }
    }

    public func organization(named name: String) async throws -> Organization? {
        try await snapshot { tx in try await ContractRows.organization(named: name, in: tx) }
    }

    public func createContract(_ contract: NewContract) async throws -> Contract {
        if let problem = contract.terms.problem { throw ContractError.invalid(problem) }
        let id = try await write { tx -> Int64 in
            guard try await tx.exists("SELECT 1 FROM organizations WHERE id = \(contract.organizationID)") else {
                throw ContractError.unknownOrganization("#\(contract.organizationID)")
            }
            let terms = contract.terms
            guard let id = try await tx.value("""
                INSERT INTO contracts (org_id, name, slug, description, integration, start_date, end_date, max_learners, price, currency,
                                       active, created_by, created_at, updated_at)
                VALUES (\(contract.organizationID), \(contract.name), \(OrganizationKey.slug(contract.name)), \(contract.description),
                        \(terms.integration.rawValue), \(terms.start), \(terms.end), \(terms.maxLearners), \(Money.format(terms.price)),
                        \(terms.currency), \(terms.active), \(contract.createdBy), \(tx.now), \(tx.now))
                RETURNING id
                """, as: Int64.self) else { throw StoreError.corrupt("a contract was inserted without an id") }
            try await tx.audit(actor: contract.createdBy, action: "contract.create", jobID: nil, detail: "contract \(id) \(contract.name)")
            try await ContractRows.enqueueSync(id, in: tx)
            return id
        }
        jobsMayRun()
        guard let made = try await self.contract(id) else { throw ContractError.unknownContract(id) }
        return made
    }

    public func modifyContract(_ id: Int64, _ changes: ContractChanges, actor: String) async throws -> Contract {
        try await write { tx in
            guard let row = try await tx.row("SELECT * FROM contracts WHERE id = \(id) FOR UPDATE") else {
                throw ContractError.unknownContract(id)
            }
            let terms = changes.applied(to: try ContractRows.terms(row))
            if let problem = terms.problem { throw ContractError.invalid(problem) }
            try await tx.run("""
                UPDATE contracts SET start_date = \(terms.start), end_date = \(terms.end), max_learners = \(terms.maxLearners),
                                     price = \(Money.format(terms.price)), currency = \(terms.currency), active = \(terms.active),
                                     description = coalesce(\(changes.description), description), updated_at = \(tx.now)
                WHERE id = \(id)
                """)
            try await tx.audit(actor: actor, action: "contract.modify", jobID: nil, detail: "contract \(id): " + ContractRows.describe(terms))
            try await ContractRows.enqueueSync(id, in: tx)
        }
        jobsMayRun()
        guard let modified = try await contract(id) else { throw ContractError.unknownContract(id) }
        return modified
    }

    public func contract(_ id: Int64) async throws -> Contract? {
        try await snapshot { tx in try await ContractRows.contract(id, in: tx) }
    }

    public func contracts(organization: String?) async throws -> [Contract] {
        try await snapshot { tx in
            let ids: [Int64]
            if let organization {
                guard let org = try await ContractRows.organization(named: organization, in: tx) else {
                    throw ContractError.unknownOrganization(organization)
                }
                ids = try await tx.rows("SELECT id FROM contracts WHERE org_id = \(org.id) ORDER BY id DESC").map { try $0.value("id") }
            } else {
                ids = try await tx.rows("SELECT id FROM contracts ORDER BY id DESC").map { try $0.value("id") }
            }
            var contracts: [Contract] = []
            for id in ids { if let contract = try await ContractRows.contract(id, in: tx) { contracts.append(contract) } }
            return contracts
        }
    }

    public func addCourseware(_ id: Int64, runs: [ContractRunRequest], actor: String) async throws -> [ContractRun] {
        try await write { tx in
            guard try await tx.exists("SELECT 1 FROM contracts WHERE id = \(id) FOR UPDATE") else { throw ContractError.unknownContract(id) }
            // A run may be new: two contracts asking for it at once take turns, and the second finds it owned.
            for course in Set(runs.map(\.courseID)).sorted() { try await tx.lock("run:" + course) }
            for run in runs {
                // Another contract's run, even one it removed: its codes and learners stay that contract's.
                if let owner = try await tx.value("SELECT contract_id FROM contract_runs WHERE course_id = \(run.courseID)", as: Int64.self),
                   owner != id {
                    throw ContractError.runOwned(run.courseID, contract: owner)
                }
                let state: ContractRunState = run.sourceID == nil ? .ready : .requested
                try await tx.run("""
                    INSERT INTO contract_runs (course_id, contract_id, source_id, state, attached, created_at, updated_at)
                    VALUES (\(run.courseID), \(id), \(run.sourceID), \(state.rawValue), true, \(tx.now), \(tx.now))
                    ON CONFLICT (course_id) DO UPDATE SET attached = true, updated_at = excluded.updated_at
                    """)
                let current = try await tx.value("SELECT state FROM contract_runs WHERE course_id = \(run.courseID)", as: String.self)
                if let source = run.sourceID, current != ContractRunState.ready.rawValue {
                    _ = try await tx.insert([NewJob(kind: .clone, dedupeKey: ContractKeys.clone(run: run.courseID),
                                                    serialKey: ContractKeys.clone(run: run.courseID),
                                                    payload: ClonePayload(contractID: id, courseID: run.courseID, sourceID: source).jsonText,
                                                    source: "contract:\(id)")], deliveryID: nil)
                }
                if current == ContractRunState.ready.rawValue {
                    try await ContractRows.enrollAttached(contract: id, run: run.courseID, in: tx)
                }
            }
            try await tx.audit(actor: actor, action: "contract.courseware", jobID: nil,
                               detail: "contract \(id): added \(runs.map(\.courseID).joined(separator: ", "))")
            try await ContractRows.enqueueSync(id, in: tx)
        }
        jobsMayRun()
        let wanted = Set(runs.map(\.courseID))
        return try await contract(id)?.runs.filter { wanted.contains($0.courseID) } ?? []
    }

    public func removeCourseware(_ id: Int64, courses: [String], actor: String) async throws -> [ContractRun] {
        try await write { tx in
            guard try await tx.exists("SELECT 1 FROM contracts WHERE id = \(id) FOR UPDATE") else { throw ContractError.unknownContract(id) }
            for course in courses {
                guard try await tx.exists("""
                    UPDATE contract_runs SET attached = false, updated_at = \(tx.now) WHERE course_id = \(course) AND contract_id = \(id)
                    RETURNING 1
                    """) else { throw ContractError.invalid("\(course) is not a run of contract \(id)") }
            }
            try await tx.audit(actor: actor, action: "contract.courseware", jobID: nil,
                               detail: "contract \(id): removed \(courses.joined(separator: ", "))")
            try await ContractRows.enqueueSync(id, in: tx)
        }
        jobsMayRun()
        let wanted = Set(courses)
        return try await contract(id)?.runs.filter { wanted.contains($0.courseID) } ?? []
    }

    public func learners(of id: Int64) async throws -> [ContractLearner] {
        try await snapshot { tx in
            try await tx.rows("SELECT email, source, since FROM contract_learners WHERE contract_id = \(id) ORDER BY since, email").map {
                ContractLearner(email: try $0.value("email"), source: try $0.value("source"), since: try $0.value("since"))
            }
        }
    }

    public func attach(_ id: Int64, emails: [String], actor: String) async throws -> [EnqueuedJob] {
        let jobs = try await write { tx -> [EnqueuedJob] in
            // The contract's row locked: redemptions of its codes, which count against the same cap, wait.
            guard let cap = try await tx.value("SELECT max_learners FROM contracts WHERE id = \(id) FOR UPDATE", as: Int?.self) else {
                throw ContractError.unknownContract(id)
            }
            let runs: [String] = try await tx.rows("""
                SELECT course_id FROM contract_runs WHERE contract_id = \(id) AND attached AND state = 'ready'
                """).map { try $0.value("course_id") }
            // Attaching takes places under the cap as redeeming does: refused whole when they are not all free.
            let already = Set(try await tx.rows("SELECT email FROM contract_learners WHERE contract_id = \(id)").map { try $0.value("email", as: String.self) })
            let newcomers = Set(emails).subtracting(already)
            if let cap, already.count + newcomers.count > cap {
                throw ContractError.full(cap: cap, learners: already.count, asked: newcomers.count)
            }
            var jobs: [EnqueuedJob] = []
            for email in emails {
                // A learner who came by a code becomes an attached one: enrolled in runs added later too.
                let since = try await tx.value("""
                    INSERT INTO contract_learners (contract_id, email, source, since) VALUES (\(id), \(email), 'attach', \(tx.now))
                    ON CONFLICT (contract_id, email) DO UPDATE SET source = 'attach'
                    RETURNING since
                    """, as: Date.self) ?? tx.now
                jobs += try await tx.insert(runs.map { ContractRows.enrollJob(contract: id, email: email, run: $0,
                                                                              attachment: ContractRows.attachment(since)) }, deliveryID: nil)
            }
            try await tx.audit(actor: actor, action: "contract.attach", jobID: nil, detail: "contract \(id): \(emails.joined(separator: ", "))")
            try await ContractRows.enqueueSync(id, in: tx)
            return jobs
        }
        jobsMayRun()
        return jobs
    }

    public func detach(_ id: Int64, emails: [String], actor: String) async throws -> [EnqueuedJob] {
        let jobs = try await write { tx -> [EnqueuedJob] in
            // Each detach is its own unenroll: a learner attached, detached and attached again is unenrolled twice.
            guard let generation = try await tx.value("""
                UPDATE contracts SET sync_generation = sync_generation + 1 WHERE id = \(id) RETURNING sync_generation
                """, as: Int.self) else { throw ContractError.unknownContract(id) }
            let runs: [String] = try await tx.rows("SELECT course_id FROM contract_runs WHERE contract_id = \(id) AND attached")
                .map { try $0.value("course_id") }
            var jobs: [EnqueuedJob] = []
            for email in emails {
                // Only attached (SSO) learners: one who redeemed a code keeps the seat the code gave.
                guard try await tx.exists("""
                    DELETE FROM contract_learners WHERE contract_id = \(id) AND email = \(email) AND source = 'attach' RETURNING 1
                    """) else { continue }
                jobs += try await tx.insert(runs.map { run in
                    NewJob(kind: .unenroll, dedupeKey: ContractKeys.unenroll(contract: id, email: email, run: run, generation: generation),
                           serialKey: SerialKey.enrollment(email: email, courseID: run),
                           payload: UnenrollPayload(email: email, courseID: run, orderReference: "contract-\(id)").jsonText,
                           source: "contract:\(id)")
                }, deliveryID: nil)
            }
            try await tx.audit(actor: actor, action: "contract.detach", jobID: nil, detail: "contract \(id): \(emails.joined(separator: ", "))")
            try await ContractRows.enqueueSync(id, in: tx)
            return jobs
        }
        jobsMayRun()
        return jobs
    }

    public func syncContract(_ id: Int64) async throws -> ContractSyncOutcome {
        try await write { tx in try await ContractRows.sync(id, in: tx) }
    }

    public func cloneTarget(_ courseID: String) async throws -> (run: ContractRun, terms: ContractTerms)? {
        try await snapshot { tx -> (run: ContractRun, terms: ContractTerms)? in
            guard let row = try await tx.row("SELECT * FROM contract_runs WHERE course_id = \(courseID)"),
                  let contract = try await tx.row("SELECT * FROM contracts WHERE id = \(try row.value("contract_id", as: Int64.self))")
            else { return nil }
            return (try ContractRows.run(row), try ContractRows.terms(contract))
        }
    }

    public func setRunState(_ courseID: String, _ state: ContractRunState, error: String?) async throws {
        try await write { tx in
            // The contract first, as attach and detach lock it: a learner attached meanwhile is either seen here or
            // sees the run ready.
            if let contract = try await tx.value("SELECT contract_id FROM contract_runs WHERE course_id = \(courseID)", as: Int64.self) {
                try await tx.run("SELECT 1 FROM contracts WHERE id = \(contract) FOR UPDATE")
            }
            let before = try await tx.row("SELECT contract_id, state, attached FROM contract_runs WHERE course_id = \(courseID) FOR UPDATE")
            try await tx.run("""
                UPDATE contract_runs SET state = \(state.rawValue), error = \(error), updated_at = \(tx.now) WHERE course_id = \(courseID)
                """)
            if let before, state == .ready, try before.value("state", as: String.self) != ContractRunState.ready.rawValue,
               try before.value("attached", as: Bool.self) {
                try await ContractRows.enrollAttached(contract: try before.value("contract_id"), run: courseID, in: tx)
            }
        }
        jobsMayRun()
    }
}

/// Organizations, contracts, their runs and learners, inside the caller's transaction.
enum ContractRows {
    static func organization(_ r: PostgresRandomAccessRow) throws -> Organization {
        Organization(id: try r.value("id"), name: try r.value("name"), key: try r.value("key"), slug: try r.value("slug"),
                     createdAt: try r.value("created_at"))
    }

    static func organization(named name: String, in tx: Tx) async throws -> Organization? {
        try await tx.row("SELECT * FROM organizations WHERE name = \(name)").map(organization)
    }

    static func terms(_ r: PostgresRandomAccessRow) throws -> ContractTerms {
        ContractTerms(integration: ContractIntegration(rawValue: try r.value("integration")) ?? .nonSSO, start: try r.value("start_date"),
                      end: try r.value("end_date"), maxLearners: try r.value("max_learners"), price: Money.parse(try r.value("price")) ?? 0,
                      currency: try r.value("currency"), active: try r.value("active"))
    }

    static func describe(_ terms: ContractTerms) -> String {
        "\(terms.integration.rawValue), \(terms.start ?? "no start")…\(terms.end ?? "no end"), "
            + (terms.maxLearners.map { "cap \($0)" } ?? "uncapped") + ", "
            + (terms.price > 0 ? "\(Money.format(terms.price)) \(terms.currency ?? "")" : "free") + (terms.active ? "" : ", inactive")
    }

    static func run(_ r: PostgresRandomAccessRow) throws -> ContractRun {
        ContractRun(courseID: try r.value("course_id"), contractID: try r.value("contract_id"), sourceID: try r.value("source_id"),
                    state: ContractRunState(rawValue: try r.value("state")) ?? .failed, attached: try r.value("attached"),
                    error: try r.value("error"))
    }

    static func contract(_ id: Int64, in tx: Tx) async throws -> Contract? {
        guard let row = try await tx.row("SELECT * FROM contracts WHERE id = \(id)"),
              let org = try await tx.row("SELECT * FROM organizations WHERE id = \(try row.value("org_id", as: Int64.self))")
        else { return nil }
        var runs = try await tx.rows("SELECT * FROM contract_runs WHERE contract_id = \(id) ORDER BY created_at, course_id").map(run)
        let counts = try await tx.rows("""
            SELECT course_id, state, count(*) AS n FROM codes WHERE source = 'contract' AND source_ref = \(String(id))
            GROUP BY course_id, state
            """)
        for count in counts {
            let course: String = try count.value("course_id")
            guard let index = runs.firstIndex(where: { $0.courseID == course }) else { continue }
            let n = try count.value("n", as: Int.self)
            switch CodeState(rawValue: try count.value("state")) {
            case .active: runs[index].codes.active = n
            case .redeemed: runs[index].codes.redeemed = n
            case .void: runs[index].codes.void = n
            case nil: break
            }
        }
        let learners = try await tx.value("SELECT count(*) FROM contract_learners WHERE contract_id = \(id)", as: Int.self) ?? 0
        return Contract(id: id, organization: try organization(org), name: try row.value("name"), slug: try row.value("slug"),
                        description: try row.value("description"), terms: try terms(row), overCap: try row.value("over_cap"),
                        learners: learners, runs: runs, createdBy: try row.value("created_by"), createdAt: try row.value("created_at"))
    }

    /// One `contract.sync`, unless one is queued already: it will read the newest terms when it runs.
    static func enqueueSync(_ id: Int64, in tx: Tx) async throws {
        let serial = ContractKeys.serial(contract: id)
        if try await tx.exists("""
            SELECT 1 FROM jobs WHERE serial_key = \(serial) AND state = 'queued' AND kind = \(JobKind.contractSync.rawValue)
            """) { return }
        let generation = try await tx.value("""
            UPDATE contracts SET sync_generation = sync_generation + 1 WHERE id = \(id) RETURNING sync_generation
            """, as: Int.self) ?? 0
        _ = try await tx.insert([NewJob(kind: .contractSync, dedupeKey: ContractKeys.sync(contract: id, generation: generation),
                                        serialKey: serial, payload: ContractSyncPayload(contractID: id).jsonText, source: "contract:\(id)")],
                                deliveryID: nil)
    }

    /// - Parameter attachment: when the learner was attached (milliseconds): a new attachment enrolls again.
    static func enrollJob(contract id: Int64, email: String, run: String, attachment: Int64) -> NewJob {
        NewJob(kind: .enroll, dedupeKey: ContractKeys.enroll(contract: id, email: email, run: run, attachment: attachment),
               serialKey: SerialKey.enrollment(email: email, courseID: run),
               payload: EnrollPayload(email: email, courseID: run, orderReference: "contract-\(id)").jsonText, source: "contract:\(id)")
    }

    /// The contract's attached (SSO) learners enrolled in a run that has become ready.
    static func enrollAttached(contract id: Int64, run: String, in tx: Tx) async throws {
        let learners = try await tx.rows("SELECT email, since FROM contract_learners WHERE contract_id = \(id) AND source = 'attach'")
        _ = try await tx.insert(learners.map { enrollJob(contract: id, email: try $0.value("email"), run: run,
                                                         attachment: attachment(try $0.value("since"))) }, deliveryID: nil)
    }

    static func attachment(_ since: Date) -> Int64 { Int64((since.timeIntervalSince1970 * 1000).rounded()) }

    /// What a contract code's redemption must know of its contract; nil for a code of no contract.
    static func gate(for record: CodeRecord, email: String, in tx: Tx) async throws -> ContractGate? {
        guard record.source == "contract", let id = Int64(record.sourceReference) else { return nil }
        guard let row = try await tx.row("SELECT * FROM contracts WHERE id = \(id)") else {
            return ContractGate(inForce: false, maxLearners: nil, learners: 0, isLearner: false)
        }
        let attached = try await tx.value("""
            SELECT attached FROM contract_runs WHERE course_id = \(record.courseID) AND contract_id = \(id)
            """, as: Bool.self) ?? false
        // Places taken: the learners, and others holding a seat while they pay (the asker's own hold is theirs).
        let learners = try await tx.value("""
            SELECT (SELECT count(*) FROM contract_learners WHERE contract_id = \(id))
                 + (SELECT count(DISTINCT h.email) FROM code_holds h JOIN codes c ON c.code = h.code
                    WHERE c.source = 'contract' AND c.source_ref = \(String(id)) AND h.state = 'held' AND h.expires_at > \(tx.now)
                      AND h.email <> \(email)
                      AND h.email NOT IN (SELECT email FROM contract_learners WHERE contract_id = \(id)))
            """, as: Int.self) ?? 0
        let isLearner = try await tx.exists("SELECT 1 FROM contract_learners WHERE contract_id = \(id) AND email = \(email)")
        let terms = try terms(row)
        return ContractGate(inForce: attached && terms.inForce(on: ContractTerms.day(tx.now)), maxLearners: terms.maxLearners,
                            learners: learners, isLearner: isLearner)
    }

    /// A learner who redeemed one of the contract's codes is one of its learners.
    static func recordLearner(for record: CodeRecord, email: String, in tx: Tx) async throws {
        guard record.source == "contract", let id = Int64(record.sourceReference) else { return }
        try await tx.run("""
            INSERT INTO contract_learners (contract_id, email, source, since) VALUES (\(id), \(email), 'code', \(tx.now)) ON CONFLICT DO NOTHING
            """)
    }

    /// `contract.sync`: the plan of `ContractSync` over the contract's runs and live codes, applied.
    static func sync(_ id: Int64, in tx: Tx) async throws -> ContractSyncOutcome {
        guard let row = try await tx.row("SELECT * FROM contracts WHERE id = \(id) FOR UPDATE") else { throw ContractError.unknownContract(id) }
        let terms = try terms(row)
        var runs = try await tx.rows("SELECT course_id, attached FROM contract_runs WHERE contract_id = \(id) ORDER BY course_id")
            .map { ContractSync.Run(courseID: try $0.value("course_id"), attached: try $0.value("attached")) }
        // A seat held while its learner pays counts as taken: the sync neither voids nor reprices it.
        let codes = try await tx.rows("""
            SELECT c.id, c.code, c.course_id, c.unlimited, c.price, c.currency,
                   (SELECT string_agg(email, ' ') FROM (
                        SELECT r.email FROM code_redemptions r WHERE r.code = c.code
                        UNION SELECT h.email FROM code_holds h WHERE h.code = c.code AND h.state = 'held' AND h.expires_at > \(tx.now)) e
                   ) AS redeemed_by
            FROM codes c WHERE c.source = 'contract' AND c.source_ref = \(String(id)) AND c.state <> 'void' ORDER BY c.id
            """)
        for code in codes {
            let course: String = try code.value("course_id")
            guard let index = runs.firstIndex(where: { $0.courseID == course }),
                  case .success(let parsed) = RegistrationCode.parse(try code.value("code", as: String.self)) else { continue }
            runs[index].codes.append(ContractSync.Code(
                id: try code.value("id"), code: parsed, unlimited: try code.value("unlimited"), price: Money.parse(try code.value("price")) ?? 0,
                currency: try code.value("currency"),
                redeemedBy: try code.value("redeemed_by", as: String?.self)?.split(separator: " ").map(String.init) ?? []))
        }
        let learners = try await tx.value("SELECT count(*) FROM contract_learners WHERE contract_id = \(id)", as: Int.self) ?? 0
        let plan = ContractSync.plan(terms: terms, runs: runs, learners: learners)
        var outcome = ContractSyncOutcome()
        outcome.overCap = plan.overCap
        let actor = "contract.sync:\(id)"
        for change in plan.changes {
            if !change.void.isEmpty {
                try await CodeRows.void(change.void, reason: change.voidReason, actor: actor, in: tx)
                outcome.voided += change.void.count
            }
            for code in change.makeUnlimited { try await tx.run("UPDATE codes SET unlimited = true WHERE code = \(code.value)") }
            for code in change.makeOneTime { try await tx.run("UPDATE codes SET unlimited = false WHERE code = \(code.value)") }
            outcome.converted += change.makeUnlimited.count + change.makeOneTime.count
            for code in change.reprice {
                try await tx.run("UPDATE codes SET price = \(Money.format(terms.price)), currency = \(terms.currency) WHERE code = \(code.value)")
            }
            outcome.repriced += change.reprice.count
            if change.create > 0 {
                outcome.created += try await CodeRows.create(NewCodes(count: change.create, courseID: change.courseID, mode: nil, source: "contract",
                                                                      sourceReference: String(id), price: terms.price, currency: terms.currency),
                                                             in: tx).count
            }
            if change.createUnlimited {
                outcome.created += try await CodeRows.create(NewCodes(count: 1, courseID: change.courseID, mode: nil, source: "contract",
                                                                      sourceReference: String(id), unlimited: true, price: terms.price,
                                                                      currency: terms.currency), in: tx).count
            }
        }
        try await tx.run("UPDATE contracts SET over_cap = \(plan.overCap) WHERE id = \(id)")
        return outcome
    }
}
