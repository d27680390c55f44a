import Foundation
import Hummingbird

/// A small seedable generator, so `randomSeed` makes the fault sequence reproducible.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What the responder must do to one API call before (and after) handling it.
struct FaultPlan: Sendable {
    var latency: Duration
    var fault: SandboxFaultKind?
    var slowDelay: Duration
}

extension SandboxState {
    func currentFaults() -> SandboxFaults { faults }

    func setFaults(_ faults: SandboxFaults) {
        self.faults = faults
        if faults.throttlePerMinute == nil { throttleHistory.removeAll() }
    }

    /// Draws whether this API call misbehaves, and how.
    func planFault() -> FaultPlan {
        var plan = FaultPlan(latency: faults.latency, fault: nil, slowDelay: faults.slowAnswerDelay)
        guard faults.failRate > 0, !faults.kinds.isEmpty else { return plan }
        let draw = Double(random.next() >> 11) / Double(1 << 53)
        guard draw < faults.failRate else { return plan }
        let kind = faults.kinds[Int(random.next() % UInt64(faults.kinds.count))]
        plan.fault = kind
        stats.faultsInjected += 1
        stats.faults[kind.rawValue, default: 0] += 1
        return plan
    }

    /// DRF's SimpleRateThrottle: a sliding 60 s window of accepted calls per client. Returns the
    /// 429 to send, or nil when the call may proceed (and is then counted).
    func throttle(_ caller: Caller) -> Reply? {
        guard let limit = faults.throttlePerMinute else { return nil }
        let now = ContinuousClock.now
        let window = Duration.seconds(60)
        var history = throttleHistory[caller.clientID, default: []].filter { now - $0 < window }
        defer { throttleHistory[caller.clientID] = history }
        guard history.count >= max(0, limit) else {
            history.append(now)
            return nil
        }
        // DRF rounds the remaining wait up and words it in the singular for exactly one second.
        let remaining = history.first.map { window - (now - $0) } ?? window
        let wait = max(1, Int((Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18).rounded(.up)))
        stats.throttled += 1
        let unit = wait == 1 ? "second" : "seconds"
        return .detail(
            .tooManyRequests,
            "Request was throttled. Expected available in \(wait) \(unit).",
            headers: [.retryAfter: String(wait)]
        )
    }

    func countRequest(_ endpoint: String) {
        stats.requests[endpoint, default: 0] += 1
    }

    func currentStats() -> SandboxStats {
        var snapshot = stats
        snapshot.ledgerEntries = store.ledger.entries.count
        snapshot.liveTokens = tokens.values.filter { ContinuousClock.now < $0.expires }.count
        return snapshot
    }
}

/// The canned bodies of injected failures: what a client sees from Django or a proxy, not JSON.
enum FaultReply {
    static func reply(for kind: SandboxFaultKind) -> Reply? {
        switch kind {
        case .serverError:
            return Reply(
                status: .internalServerError,
                body: .text("\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n", contentType: "text/html; charset=utf-8")
            )
        case .badGateway:
            return Reply(
                status: .badGateway,
                body: .text("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", contentType: "text/html")
            )
        case .unavailable:
            return Reply(
                status: .serviceUnavailable,
                body: .text("<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", contentType: "text/html")
            )
        case .reset, .slow:
            return nil
        }
    }
}

/// Counters behind `GET /__sandbox/stats`.
public struct SandboxStats: Codable, Sendable, Equatable {
    public var tokensIssued = 0
    public var liveTokens = 0
    /// Calls by endpoint, e.g. `"POST /api/enrollment/v1/enrollment": 12`.
    public var requests: [String: Int] = [:]
    /// 429s sent.
    public var throttled = 0
    public var faultsInjected = 0
    /// Injected faults by kind (`"500"`, `"502"`, `"503"`, `"reset"`, `"slow"`).
    public var faults: [String: Int] = [:]
    public var ledgerEntries = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case requests, throttled, faults
        case tokensIssued = "tokens_issued"
        case liveTokens = "live_tokens"
        case faultsInjected = "faults_injected"
        case ledgerEntries = "ledger_entries"
    }
}
