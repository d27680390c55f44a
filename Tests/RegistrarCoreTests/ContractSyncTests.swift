import Foundation
import RegistrarCore
import TestSupport
import Testing

/// `contract.sync`'s plan, applied to a model of the contract's codes the way the store applies it.
@Suite struct ContractSyncTests {
    /// The contract's runs and learners, changed by plans and by redemptions.
    struct Model {
        var runs: [ContractSync.Run] = []
        var voided: [ContractSync.Code] = []
        var learners: Set<String> = []
        var nextID: Int64 = 1
        var random: SeededRandom

        mutating func newCode(unlimited: Bool, price: Decimal, currency: String?) -> ContractSync.Code {
            defer { nextID += 1 }
            return ContractSync.Code(id: nextID, code: RegistrationCode.generate(using: &random), unlimited: unlimited, price: price,
                                     currency: currency)
        }

        /// What the store does with a plan.
        mutating func apply(_ plan: ContractSync.Plan, terms: ContractTerms) {
            for change in plan.changes {
                guard let index = runs.firstIndex(where: { $0.courseID == change.courseID }) else { continue }
                var run = runs[index]
                voided += run.codes.filter { change.void.contains($0.code) }
                run.codes.removeAll { change.void.contains($0.code) }
                for position in run.codes.indices {
                    let code = run.codes[position].code
                    if change.makeUnlimited.contains(code) { run.codes[position].unlimited = true }
                    if change.makeOneTime.contains(code) { run.codes[position].unlimited = false }
                    if change.reprice.contains(code) {
                        run.codes[position].price = terms.price
                        run.codes[position].currency = terms.currency
                    }
                }
                for _ in 0..<change.create { run.codes.append(newCode(unlimited: false, price: terms.price, currency: terms.currency)) }
                if change.createUnlimited { run.codes.append(newCode(unlimited: true, price: terms.price, currency: terms.currency)) }
                runs[index] = run
            }
        }

        /// A learner redeems some redeemable code, as the redemption rule would let them.
        mutating func redeemSome(terms: ContractTerms) {
            let attached = runs.indices.filter { runs[$0].attached }
            guard let runIndex = attached.randomElement(using: &random) else { return }
            let open = runs[runIndex].codes.indices.filter { runs[runIndex].codes[$0].redeemable }
            guard let codeIndex = open.randomElement(using: &random) else { return }
            let email = "l\(Int.random(in: 0..<12, using: &random))@example.com"
            var facts = CodeFacts(state: .active, unlimited: runs[runIndex].codes[codeIndex].unlimited,
                                  price: 0, redeemedBy: runs[runIndex].codes[codeIndex].redeemedBy)
            facts.contract = ContractGate(inForce: true, maxLearners: terms.maxLearners, learners: learners.count,
                                          isLearner: learners.contains(email))
            guard RedemptionRules.decide(facts, email: email) == .redeem else { return }
            runs[runIndex].codes[codeIndex].redeemedBy.append(email)
            learners.insert(email)
        }
    }

    func terms(_ integration: ContractIntegration = .nonSSO, cap: Int? = nil, price: Decimal = 0) -> ContractTerms {
        ContractTerms(integration: integration, maxLearners: cap, price: price, currency: price > 0 ? "USD" : nil)
    }

    /// The design's rules, after a sync.
    func checkInvariants(_ model: Model, _ terms: ContractTerms, _ context: String) {
        for run in model.runs {
            let unredeemed = run.codes.filter { $0.redeemedBy.isEmpty }
            if !run.attached {
                #expect(unredeemed.isEmpty, "\(context): a removed run keeps unredeemed codes")
                continue
            }
            for code in run.codes where code.redeemable {
                #expect(code.price == terms.price, "\(context): \(run.courseID) has a code at \(code.price), not \(terms.price)")
                if terms.price > 0 { #expect(code.currency == terms.currency, "\(context): a code in \(code.currency ?? "no currency")") }
            }
            if !ContractSync.wantsCodes(terms) {
                if terms.maxLearners == nil { #expect(unredeemed.isEmpty, "\(context): SSO, free, uncapped keeps codes") }
            } else if let cap = terms.maxLearners {
                let seats = run.codes.filter { !$0.unlimited || $0.redeemedBy.isEmpty }
                let redeemedOneTime = run.codes.filter { !$0.unlimited && !$0.redeemedBy.isEmpty }.count
                #expect(seats.count == max(cap, redeemedOneTime), "\(context): \(run.courseID) has \(seats.count) seats for cap \(cap)")
                #expect(!unredeemed.contains { $0.unlimited }, "\(context): an unredeemed unlimited code under a cap")
            } else {
                #expect(run.codes.contains { $0.unlimited }, "\(context): uncapped without an unlimited code")
                #expect(!unredeemed.contains { !$0.unlimited }, "\(context): uncapped with an unredeemed one-time code")
            }
        }
        #expect(model.voided.allSatisfy { $0.redeemedBy.isEmpty }, "\(context): a redeemed code was voided")
    }

    @Test func aCappedContractGetsOneCodePerSeatPerRun() {
        var model = Model(random: SeededRandom(seed: 1))
        model.runs = [.init(courseID: "A"), .init(courseID: "B")]
        let capped = terms(cap: 3)
        let plan = ContractSync.plan(terms: capped, runs: model.runs, learners: 0)
        #expect(plan.changes.map(\.create) == [3, 3] && !plan.overCap)
        model.apply(plan, terms: capped)
        #expect(ContractSync.plan(terms: capped, runs: model.runs, learners: 0).isEmpty, "sync twice = sync once")
    }

    @Test func loweringTheCapVoidsUnredeemedNewestFirstAndNeverARedeemedOne() {
        var model = Model(random: SeededRandom(seed: 2))
        model.runs = [.init(courseID: "A")]
        model.apply(ContractSync.plan(terms: terms(cap: 3), runs: model.runs, learners: 0), terms: terms(cap: 3))
        model.runs[0].codes[0].redeemedBy = ["a@example.com"]
        model.runs[0].codes[2].redeemedBy = ["c@example.com"]
        let lowered = ContractSync.plan(terms: terms(cap: 1), runs: model.runs, learners: 2)
        #expect(lowered.changes.first?.void == [model.runs[0].codes[1].code], "the only unredeemed one")
        #expect(lowered.overCap, "two learners, cap 1: nobody removed, the contract shows it")
    }

    @Test func removingTheCapMakesUnredeemedCodesUnlimitedAndVoidsNone() {
        var model = Model(random: SeededRandom(seed: 3))
        model.runs = [.init(courseID: "A")]
        model.apply(ContractSync.plan(terms: terms(cap: 2), runs: model.runs, learners: 0), terms: terms(cap: 2))
        model.runs[0].codes[0].redeemedBy = ["a@example.com"]
        let uncapped = ContractSync.plan(terms: terms(), runs: model.runs, learners: 1)
        #expect(uncapped.changes.first?.void == [] && uncapped.changes.first?.makeUnlimited == [model.runs[0].codes[1].code])
        #expect(uncapped.changes.first?.createUnlimited == false)
    }

    @Test func aPriceReachesEveryRedeemableCodeAndSSOWithoutPriceOrCapVoidsThem() {
        var model = Model(random: SeededRandom(seed: 4))
        model.runs = [.init(courseID: "A")]
        model.apply(ContractSync.plan(terms: terms(), runs: model.runs, learners: 0), terms: terms())
        let priced = ContractSync.plan(terms: terms(price: 49), runs: model.runs, learners: 0)
        #expect(priced.changes.first?.reprice.count == 1)
        let ssoFree = ContractSync.plan(terms: terms(.sso), runs: model.runs, learners: 0)
        #expect(ssoFree.changes.first?.void.count == 1)
        #expect(ContractSync.plan(terms: terms(.sso), runs: [.init(courseID: "B")], learners: 0).isEmpty, "no codes to make")
    }

    @Test func aRemovedRunsUnredeemedCodesGo() {
        var model = Model(random: SeededRandom(seed: 5))
        model.runs = [.init(courseID: "A")]
        model.apply(ContractSync.plan(terms: terms(cap: 2), runs: model.runs, learners: 0), terms: terms(cap: 2))
        model.runs[0].codes[0].redeemedBy = ["a@example.com"]
        model.runs[0].attached = false
        let plan = ContractSync.plan(terms: terms(cap: 2), runs: model.runs, learners: 1)
        #expect(plan.changes.first?.void == [model.runs[0].codes[1].code])
    }

    @Test func theRedemptionGateCountsDistinctLearnersAcrossTheContract() {
        func gate(_ learners: Int, isLearner: Bool = false, inForce: Bool = true) -> CodeFacts {
            var facts = CodeFacts(state: .active, unlimited: true)
            facts.contract = ContractGate(inForce: inForce, maxLearners: 3, learners: learners, isLearner: isLearner)
            return facts
        }
        #expect(RedemptionRules.decide(gate(2), email: "d@example.com") == .redeem)
        #expect(RedemptionRules.decide(gate(3), email: "d@example.com") == .refused(.contractFull))
        #expect(RedemptionRules.decide(gate(3, isLearner: true), email: "a@example.com") == .redeem, "another run, same learner")
        #expect(RedemptionRules.decide(gate(0, inForce: false), email: "d@example.com") == .refused(.contractInactive))
    }

    /// Random modifications with redemptions in between: after every sync the design's rules hold, and a
    /// second sync plans nothing.
    @Test(arguments: 0..<40)
    func theRulesHoldAfterEverySync(round: Int) {
        let seed = SeededRandom.seed(from: "CONTRACT_SYNC_SEED", default: 0xC0_47AC7 &+ UInt64(round))
        var model = Model(random: SeededRandom(seed: seed))
        var current = terms(cap: 3)
        var courses = 0
        for step in 0..<30 {
            switch Int.random(in: 0..<8, using: &model.random) {
            case 0: current.maxLearners = [nil, 0, 1, 2, 3, 5, 8].randomElement(using: &model.random)!
            case 1:
                current.price = [0, 0, 49, 99].randomElement(using: &model.random)!
                current.currency = current.price > 0 ? ["USD", "EUR"].randomElement(using: &model.random)! : nil
            case 2: current.integration = Bool.random(using: &model.random) ? .sso : .nonSSO
            case 3:
                courses += 1
                model.runs.append(.init(courseID: "course-\(courses)"))
            case 4:
                if let index = model.runs.indices.filter({ model.runs[$0].attached }).randomElement(using: &model.random) {
                    model.runs[index].attached = false
                }
            default:
                for _ in 0..<Int.random(in: 1...4, using: &model.random) { model.redeemSome(terms: current) }
            }
            let plan = ContractSync.plan(terms: current, runs: model.runs, learners: model.learners.count)
            model.apply(plan, terms: current)
            let context = "seed \(seed) step \(step) terms cap \(String(describing: current.maxLearners)) price \(current.price) \(current.integration)"
            checkInvariants(model, current, context)
            let again = ContractSync.plan(terms: current, runs: model.runs, learners: model.learners.count)
            #expect(again.isEmpty, "\(context): a second sync plans \(again.changes)")
            #expect(plan.overCap == (current.maxLearners.map { model.learners.count > $0 } ?? false))
        }
    }
}
