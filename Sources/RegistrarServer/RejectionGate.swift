import Foundation
import RegistrarCore
import Synchronization

/// Decides, per client address, whether one more unverified delivery (rejected, or an unsigned ping) may be
/// written to the ledger. Verified deliveries never pass through here: a store's real webhooks are not slowed
/// by an attacker sharing its address.
public final class RejectionGate: Sendable {
    private let budget: Mutex<RejectionBudget>
    private let clock: any WallClock
    private let metrics: RegistrarMetrics

    public init(perMinute: Int, clock: any WallClock, metrics: RegistrarMetrics) {
        budget = Mutex(RejectionBudget(perMinute: perMinute))
        self.clock = clock
        self.metrics = metrics
    }

    /// True when `client` may have this rejection recorded; false (counted) when it must be answered 429.
    public func admit(_ client: String, source: String) -> Bool {
        let now = clock.now()
        let admitted = budget.withLock { $0.admit(client, at: now) }
        if !admitted { metrics.rejectionLimited(source: source) }
        return admitted
    }

    public static let limitedCode = "too_many_rejections"

    public static func limitedMessage(_ client: String) -> String {
        "too many rejected deliveries from \(client) this minute; this one was not recorded (server.rejections_per_minute)"
    }
}
