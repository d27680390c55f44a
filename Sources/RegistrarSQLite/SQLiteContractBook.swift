import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

extension SQLiteStore: ContractBook {
    public func createOrganization(name: String, key: String) async throws -> Organization {
        if let problem = OrganizationKey.problem(key) { throw ContractError.invalid(problem) }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ContractError.invalid("the organization's name is empty") }
        let now = clock.now()
        return try await write { db in try ContractTables.createOrganization(name: trimmed, key: key, now: now, in: db) }
    }

    public func organizations() async throws -> [Organization] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM organizations ORDER BY name").map(ContractTables.organization) }
    }

    public func organization(named name: String) async throws -> Organization? {
        try await read { db in try ContractTables.organization(named: name, in: db) }
    }

    public func createContract(_ contract: NewContract) async throws -> Contract {
        if let problem = contract.terms.problem { throw ContractError.invalid(problem) }
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let id = try await write { db -> Int64 in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM organizations WHERE id = ?", arguments: [contract.organizationID]) != nil else {
                throw ContractError.unknownOrganization("#\(contract.organizationID)")
            }
            let terms = contract.terms
            try db.execute(sql: """
                INSERT INTO contracts (org_id, name, slug, description, integration, start_date, end_date, max_learners, price, currency,
                                       active, created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [contract.organizationID, contract.name, OrganizationKey.slug(contract.name), contract.description,
                                 terms.integration.rawValue, terms.start, terms.end, terms.maxLearners, Money.format(terms.price),
                                 terms.currency, terms.active, contract.createdBy, now, now])
            let id = db.lastInsertedRowID
            try Self.audit(actor: contract.createdBy, action: "contract.create", jobID: nil, detail: "contract \(id) \(contract.name)", at: now, in: db)
            try ContractTables.enqueueSync(id, maxAttempts: maxAttempts, now: now, in: db)
            return id
        }
        jobsMayRun()
        guard let made = try await self.contract(id) else { throw ContractError.unknownContract(id) }
        return made
    }

    public func modifyContract(_ id: Int64, _ changes: ContractChanges, actor: String) async throws -> Contract {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM contracts WHERE id = ?", arguments: [id]) else {
                throw ContractError.unknownContract(id)
            }
            let terms = changes.applied(to: ContractTables.terms(row))
            if let problem = terms.problem { throw ContractError.invalid(problem) }
            try db.execute(sql: """
                UPDATE contracts SET start_date = ?, end_date = ?, max_learners = ?, price = ?, currency = ?, active = ?,
                                     description = COALESCE(?, description), updated_at = ?
                WHERE id = ?
                """, arguments: [terms.start, terms.end, terms.maxLearners, Money.format(terms.price), terms.currency, terms.active,
                                 changes.description, now, id])
            try Self.audit(actor: actor, action: "contract.modify", jobID: nil,
                           detail: "contract \(id): " + ContractTables.describe(terms), at: now, in: db)
            try ContractTables.enqueueSync(id, maxAttempts: maxAttempts, now: now, in: db)
        }
        jobsMayRun()
        guard let modified = try await contract(id) else { throw ContractError.unknownContract(id) }
        return modified
    }

    public func contract(_ id: Int64) async throws -> Contract? {
        try await read { db in try ContractTables.contract(id, in: db) }
    }

    public func contracts(organization: String?) async throws -> [Contract] {
        try await read { db in
            let ids: [Int64]
            if let organization {
                guard let org = try ContractTables.organization(named: organization, in: db) else { throw ContractError.unknownOrganization(organization) }
                ids = try Int64.fetchAll(db, sql: "SELECT id FROM contracts WHERE org_id = ? ORDER BY id DESC", arguments: [org.id])
            } else {
                ids = try Int64.fetchAll(db, sql: "SELECT id FROM contracts ORDER BY id DESC")
            }
            return try ids.compactMap { try ContractTables.contract($0, in: db) }
        }
    }

    public func addCourseware(_ id: Int64, runs: [ContractRunRequest], actor: String) async throws -> [ContractRun] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        try await write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM contracts WHERE id = ?", arguments: [id]) != nil else {
                throw ContractError.unknownContract(id)
            }
            for run in runs {
                // Another contract's run, even one it removed: its codes and learners stay that contract's.
                if let owner = try Int64.fetchOne(db, sql: "SELECT contract_id FROM contract_runs WHERE course_id = ?",
                                                  arguments: [run.courseID]), owner != id {
                    throw ContractError.runOwned(run.courseID, contract: owner)
                }
                let state: ContractRunState = run.sourceID == nil ? .ready : .requested
                try db.execute(sql: """
                    INSERT INTO contract_runs (course_id, contract_id, source_id, state, attached, created_at, updated_at)
                    VALUES (?, ?, ?, ?, 1, ?, ?)
                    ON CONFLICT(course_id) DO UPDATE SET attached = 1, updated_at = excluded.updated_at
                    """, arguments: [run.courseID, id, run.sourceID, state.rawValue, now, now])
                let current = try String.fetchOne(db, sql: "SELECT state FROM contract_runs WHERE course_id = ?", arguments: [run.courseID])
                if let source = run.sourceID, current != ContractRunState.ready.rawValue {
                    _ = try JobTable.insert([NewJob(kind: .clone, dedupeKey: ContractKeys.clone(run: run.courseID),
                                                    serialKey: ContractKeys.clone(run: run.courseID),
                                                    payload: ClonePayload(contractID: id, courseID: run.courseID, sourceID: source).jsonText,
                                                    source: "contract:\(id)")],
                                            deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
                }
                if current == ContractRunState.ready.rawValue {
                    try ContractTables.enrollAttached(contract: id, run: run.courseID, maxAttempts: maxAttempts, now: now, in: db)
                }
            }
            try Self.audit(actor: actor, action: "contract.courseware", jobID: nil,
                           detail: "contract \(id): added \(runs.map(\.courseID).joined(separator: ", "))", at: now, in: db)
            try ContractTables.enqueueSync(id, maxAttempts: maxAttempts, now: now, in: db)
        }
        jobsMayRun()
        let wanted = Set(runs.map(\.courseID))
        return try await contract(id)?.runs.filter { wanted.contains($0.courseID) } ?? []
    }

    public func removeCourseware(_ id: Int64, courses: [String], actor: String) async throws -> [ContractRun] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        try await write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM contracts WHERE id = ?", arguments: [id]) != nil else {
                throw ContractError.unknownContract(id)
            }
            for course in courses {
                try db.execute(sql: "UPDATE contract_runs SET attached = 0, updated_at = ? WHERE course_id = ? AND contract_id = ?",
                               arguments: [now, course, id])
                guard db.changesCount == 1 else { throw ContractError.invalid("\(course) is not a run of contract \(id)") }
            }
            try Self.audit(actor: actor, action: "contract.courseware", jobID: nil,
                           detail: "contract \(id): removed \(courses.joined(separator: ", "))", at: now, in: db)
            try ContractTables.enqueueSync(id, maxAttempts: maxAttempts, now: now, in: db)
        }
        jobsMayRun()
        let wanted = Set(courses)
        return try await contract(id)?.runs.filter { wanted.contains($0.courseID) } ?? []
    }

    public func learners(of id: Int64) async throws -> [ContractLearner] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT email, source, since FROM contract_learners WHERE contract_id = ? ORDER BY since, email",
                             arguments: [id]).map { ContractLearner(email: $0["email"], source: $0["source"], since: $0["since"]) }
        }
    }

    public func attach(_ id: Int64, emails: [String], actor: String) async throws -> [EnqueuedJob] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let jobs = try await write { db -> [EnqueuedJob] in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM contracts WHERE id = ?", arguments: [id]) != nil else {
                throw ContractError.unknownContract(id)
            }
            let runs = try String.fetchAll(db, sql: "SELECT course_id FROM contract_runs WHERE contract_id = ? AND attached = 1 AND state = 'ready'",
                                           arguments: [id])
            // Attaching takes places under the cap as redeeming does: refused whole when they are not all free.
            let cap = try Int.fetchOne(db, sql: "SELECT max_learners FROM contracts WHERE id = ?", arguments: [id])
            let already = Set(try String.fetchAll(db, sql: "SELECT email FROM contract_learners WHERE contract_id = ?", arguments: [id]))
            let newcomers = Set(emails).subtracting(already)
            if let cap, already.count + newcomers.count > cap {
                throw ContractError.full(cap: cap, learners: already.count, asked: newcomers.count)
            }
            var jobs: [EnqueuedJob] = []
            for email in emails {
                // A learner who came by a code becomes an attached one: enrolled in runs added later too.
                try db.execute(sql: """
                    INSERT INTO contract_learners (contract_id, email, source, since) VALUES (?, ?, 'attach', ?)
                    ON CONFLICT(contract_id, email) DO UPDATE SET source = 'attach'
                    """, arguments: [id, email, now])
                let since = try Date.fetchOne(db, sql: "SELECT since FROM contract_learners WHERE contract_id = ? AND email = ?",
                                              arguments: [id, email]) ?? now
                jobs += try JobTable.insert(runs.map { ContractTables.enrollJob(contract: id, email: email, run: $0,
                                                                                attachment: ContractTables.attachment(since)) },
                                            deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
            }
            try Self.audit(actor: actor, action: "contract.attach", jobID: nil,
                           detail: "contract \(id): \(emails.joined(separator: ", "))", at: now, in: db)
            try ContractTables.enqueueSync(id, maxAttempts: maxAttempts, now: now, in: db)
            return jobs
        }
        jobsMayRun()
        return jobs
    }

    public func detach(_ id: Int64, emails: [String], actor: String) async throws -> [EnqueuedJob] {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        let jobs = try await write { db -> [EnqueuedJob] in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM contracts WHERE id = ?", arguments: [id]) != nil else {
                throw ContractError.unknownContract(id)
            }
            let runs = try String.fetchAll(db, sql: "SELECT course_id FROM contract_runs WHERE contract_id = ? AND attached = 1", arguments: [id])
            // Each detach is its own unenroll: a learner attached, detached and attached again is unenrolled twice.
            try db.execute(sql: "UPDATE contracts SET sync_generation = sync_generation + 1 WHERE id = ?", arguments: [id])
            let generation = try Int.fetchOne(db, sql: "SELECT sync_generation FROM contracts WHERE id = ?", arguments: [id]) ?? 0
            var jobs: [EnqueuedJob] = []
            for email in emails {
                // Only attached (SSO) learners: one who redeemed a code keeps the seat the code gave.
                try db.execute(sql: "DELETE FROM contract_learners WHERE contract_id = ? AND email = ? AND source = 'attach'",
                               arguments: [id, email])
                guard db.changesCount == 1 else { continue }
                jobs += try JobTable.insert(runs.map { run in
                    NewJob(kind: .unenroll, dedupeKey: ContractKeys.unenroll(contract: id, email: email, run: run, generation: generation),
                           serialKey: SerialKey.enrollment(email: email, courseID: run),
                           payload: UnenrollPayload(email: email, courseID: run, orderReference: "contract-\(id)").jsonText,
                           source: "contract:\(id)")
                }, deliveryID: nil, defaultMaxAttempts: maxAttempts, now: now, in: db)
            }
            try Self.audit(actor: actor, action: "contract.detach", jobID: nil,
                           detail: "contract \(id): \(emails.joined(separator: ", "))", at: now, in: db)
            try ContractTables.enqueueSync(id, maxAttempts: maxAttempts, now: now, in: db)
            return jobs
        }
        jobsMayRun()
        return jobs
    }

    public func syncContract(_ id: Int64) async throws -> ContractSyncOutcome {
        let now = clock.now()
        return try await write { db in try ContractTables.sync(id, now: now, in: db) }
    }

    public func cloneTarget(_ courseID: String) async throws -> (run: ContractRun, terms: ContractTerms)? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM contract_runs WHERE course_id = ?", arguments: [courseID]),
                  let contract = try Row.fetchOne(db, sql: "SELECT * FROM contracts WHERE id = ?", arguments: [row["contract_id"] as Int64])
            else { return nil }
            return (ContractTables.run(row), ContractTables.terms(contract))
        }
    }

    public func setRunState(_ courseID: String, _ state: ContractRunState, error: String?) async throws {
        let now = clock.now()
        let maxAttempts = options.maxAttempts
        try await write { db in
            let before = try Row.fetchOne(db, sql: "SELECT contract_id, state, attached FROM contract_runs WHERE course_id = ?", arguments: [courseID])
            try db.execute(sql: "UPDATE contract_runs SET state = ?, error = ?, updated_at = ? WHERE course_id = ?",
                           arguments: [state.rawValue, error, now, courseID])
            if let before, state == .ready, (before["state"] as String) != ContractRunState.ready.rawValue, (before["attached"] as Bool) {
                try ContractTables.enrollAttached(contract: before["contract_id"], run: courseID, maxAttempts: maxAttempts, now: now, in: db)
            }
        }
        jobsMayRun()
    }
}
