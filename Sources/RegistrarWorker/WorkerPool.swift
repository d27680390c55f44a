import Foundation
import Logging
import RegistrarCore
import RegistrarStore
import ServiceLifecycle
import Synchronization

/// A pool of `concurrency` workers claiming due jobs and running their handlers.
///
/// Workers wake at once when this process enqueues (the store's doorbell) and otherwise poll every
/// `pollInterval`, which is how they see work that another process (an operator's replay) added.
/// On graceful shutdown they stop claiming, let running attempts finish within `gracePeriod`, and then
/// hand back the leases of whatever is still running so that a restart picks it up at once.
public final class WorkerPool: Service, Sendable {
    public struct Options: Sendable {
        public var concurrency: Int
        public var pollInterval: Duration
        public var gracePeriod: Duration
        public init(concurrency: Int, pollInterval: Duration = .seconds(1), gracePeriod: Duration = .seconds(20)) {
            self.concurrency = concurrency
            self.pollInterval = pollInterval
            self.gracePeriod = gracePeriod
        }
    }

    private let store: any JobQueue
    private let registry: HandlerRegistry
    private let options: Options
    private let logger: Logger
    private let observer: any WorkerObserver
    /// Unique per process, so leases can be released by prefix at shutdown and an operator can tell which
    /// process held a job.
    public let ownerPrefix: String
    private let stopping = Mutex(false)
    private let stopBell = Doorbell()
    private let running = Mutex(0)

    public init(store: any JobQueue, registry: HandlerRegistry, options: Options, logger: Logger,
                observer: any WorkerObserver = NoWorkerObserver()) {
        self.store = store
        self.registry = registry
        self.options = options
        self.logger = logger
        self.observer = observer
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        self.ownerPrefix = "\(host):\(pid):\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// True once workers have stopped claiming (for `/readyz`).
    public var isStopping: Bool { stopping.withLock { $0 } }
    /// Attempts in flight right now.
    public var activeAttempts: Int { running.withLock { $0 } }

    /// Asks workers to stop claiming; running attempts get `gracePeriod` to finish.
    public func stop() {
        let first = stopping.withLock { wasStopping in
            defer { wasStopping = true }
            return !wasStopping
        }
        if first {
            stopBell.ring()
            // Not an enqueue: wakes this pool's idle workers so they see the stop at once, not at their next poll.
            store.jobsAdded.ring()
        }
    }

    private enum Finished: Sendable {
        case worker
        case graceExpired
    }

    public func run() async throws {
        logger.info("workers started", metadata: ["concurrency": "\(options.concurrency)", "owner": "\(ownerPrefix)",
                                                  "kinds": "\(registry.kinds.map(\.rawValue).joined(separator: ","))"])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Finished.self) { group in
                for index in 0..<options.concurrency {
                    group.addTask { await self.workerLoop(index); return .worker }
                }
                group.addTask {
                    // Sleeps until stop is asked for, then allows the grace period before cutting attempts short.
                    while !self.isStopping && !Task.isCancelled { await self.stopBell.wait(timeout: .seconds(3600)) }
                    if Task.isCancelled { return .graceExpired }
                    try? await Task.sleep(for: self.options.gracePeriod)
                    return .graceExpired
                }
                var workersLeft = options.concurrency
                while let finished = await group.next() {
                    switch finished {
                    case .worker:
                        workersLeft -= 1
                        if workersLeft == 0 { group.cancelAll() }
                    case .graceExpired:
                        if workersLeft > 0 {
                            logger.warning("grace period over; interrupting running attempts",
                                           metadata: ["running": "\(activeAttempts)"])
                        }
                        group.cancelAll()
                    }
                }
            }
        } onGracefulShutdown: {
            self.stop()
        }
        // Whatever is still marked running by this process was interrupted: give it back now rather than
        // making a restart wait for the lease to expire.
        do {
            let released = try await store.releaseLeases(ownerPrefix: ownerPrefix)
            logger.info("workers stopped", metadata: ["released_leases": "\(released)"])
        } catch {
            logger.error("could not release leases at shutdown; they will expire instead",
                         metadata: ["error": "\(error)"])
        }
    }

    private func workerLoop(_ index: Int) async {
        let owner = "\(ownerPrefix)/w\(index)"
        // The job claimed in the same commit that recorded the last outcome, if any.
        var next: ClaimedJob?
        while !isStopping && !Task.isCancelled {
            if let job = next {
                next = await execute(job)
                continue
            }
            let claimed: [ClaimedJob]
            do {
                claimed = try await store.claim(owner: owner, limit: 1)
            } catch {
                if Task.isCancelled { return }
                logger.error("claiming jobs failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: options.pollInterval)
                continue
            }
            guard let job = claimed.first else {
                await store.jobsAdded.wait(timeout: options.pollInterval)
                continue
            }
            next = await execute(job)
        }
        // A job claimed just before stop was asked for is still `running` under this owner: the lease release
        // after the workers end gives it back, with the attempt not counted.
    }

    /// Runs one attempt and records it; returns the next job when one was claimed in the same commit.
    private func execute(_ claimed: ClaimedJob) async -> ClaimedJob? {
        running.withLock { $0 += 1 }
        defer { running.withLock { $0 -= 1 } }
        let job = claimed.job
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "kind"] = "\(job.kind)"
        logger[metadataKey: "attempt"] = "\(job.attempts)"
        if let deliveryID = job.deliveryID { logger[metadataKey: "delivery_id"] = "\(deliveryID)" }
        // Who and what the job is about, so one grep finds a learner's or an order's story.
        if let payload = JSONValue.parse(job.payload) {
            for (key, name) in [("email", "email"), ("course_id", "course_id"), ("order_reference", "order"),
                                ("order_number", "order"), ("source_course_id", "course_id")] {
                if let value = payload[key]?.stringValue, logger[metadataKey: name] == nil { logger[metadataKey: name] = "\(value)" }
            }
        }

        let started = ContinuousClock.now
        let outcome: HandlerOutcome
        if let handler = registry.handler(for: job.kind) {
            outcome = await runKeepingLease(claimed, handler: handler)
        } else {
            outcome = .permanent(reason: "no handler for job kind \"\(job.kind)\" in this version of registrar")
        }
        let elapsed = ContinuousClock.now - started
        // An attempt cut short by shutdown is not an outcome: its lease is released instead.
        if Task.isCancelled { return nil }
        do {
            let (newState, next) = try await store.finish(claimed, outcome: outcome, thenClaim: isStopping ? 0 : 1)
            observer.attemptFinished(kind: job.kind, outcome: outcome, newState: newState, duration: elapsed)
            var metadata: Logger.Metadata = ["outcome": "\(outcome.label)", "duration_ms": "\(elapsed.milliseconds)"]
            if let status = outcome.httpStatus { metadata["http_status"] = "\(status)" }
            if let newState { metadata["state"] = "\(newState)" } else { metadata["state"] = "lease-lost" }
            switch outcome {
            case .success: logger.info("attempt finished", metadata: metadata)
            case .transient(let reason, _, _), .permanent(let reason, _):
                metadata["error"] = "\(reason)"
                if newState == .failed { logger.error("job failed", metadata: metadata) } else { logger.warning("attempt failed", metadata: metadata) }
            }
            return next.first
        } catch {
            // The lease will expire and the job will be retried: the handler is idempotent.
            logger.error("could not record attempt outcome; the job will run again after its lease expires",
                         metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Runs the handler while renewing the lease every third of its length, so a slow attempt is not rescued
    /// (and run twice) while it is still making progress.
    private func runKeepingLease(_ claimed: ClaimedJob, handler: any JobHandler) async -> HandlerOutcome {
        let renewEvery = store.options.lease / 3
        return await withTaskGroup(of: HandlerOutcome?.self) { group in
            group.addTask { await handler.handle(claimed) }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: renewEvery)
                    if Task.isCancelled { break }
                    _ = try? await self.store.extendLease(claimed)
                }
                return nil
            }
            var outcome = HandlerOutcome.transient(reason: "attempt interrupted")
            while let result = await group.next() {
                if let result {
                    outcome = result
                    group.cancelAll()
                }
            }
            return outcome
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let parts = components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }
}
