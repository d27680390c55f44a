import Foundation
import Logging
import OpenEdX
import RegistrarStore

/// Open edX pacing shared with every instance on the database: each call takes a slot from the database's budget,
/// and a 429 seen here pauses everyone. The process keeps its own pause too, for `/metrics` and for the calls
/// already waiting here.
final class SharedRequestPacer: RequestPacing {
    private let budget: any SharedPacing
    private let local: RequestPacer
    private let logger: Logger

    init(budget: any SharedPacing, requestsPerMinute: Int, logger: Logger) {
        self.budget = budget
        // Only for its interval and the local pause: slots come from the database.
        local = RequestPacer(requestsPerMinute: requestsPerMinute)
        self.logger = logger
    }

    func acquire() async throws {
        if let paused = local.pausedFor { try await Task.sleep(for: paused) }
        let wait = try await budget.takeSlot(interval: local.interval)
        if wait > .zero { try await Task.sleep(for: wait) }
    }

    func pause(for duration: Duration) {
        local.pause(for: duration)
        let budget = self.budget
        let logger = self.logger
        Task {
            do {
                try await budget.pauseEveryone(for: duration)
            } catch {
                logger.warning("could not share a 429's pause with the other instances", metadata: ["error": "\(error)"])
            }
        }
    }

    var pausedFor: Duration? { local.pausedFor }
}
