import CurlHTTP
import Foundation
import Synchronization

/// How hard and how long to push an intake endpoint.
struct IntakeLoadSettings: Sendable {
    var url: String
    var connections: Int
    /// Stops sending new requests after this long (the measured phase only).
    var duration: Duration?
    /// Stops after this many requests (the measured phase only).
    var requests: Int?
    /// Sent before measuring and not counted: first connections, SQLite's page cache, the allocator's pools.
    var warmup: Duration
    /// Order ids are unique across runs against the same database so that no delivery is a duplicate.
    var firstOrderID: Int
}

struct IntakeLoadResult: Codable, Sendable {
    /// Answers 200: each one a delivery and its jobs committed with synchronous=FULL.
    var durable: Int
    var errorsByStatus: [String: Int]
    var transportErrors: Int
    var firstError: String?
    var elapsedSeconds: Double
    var deliveriesPerSecond: Double
    /// Of the 200 answers only.
    var latency: LatencyStats
    var warmupRequests: Int
    /// 200 answers during the warm-up: on disk too, so the durability check counts them.
    var warmupDurable: Int
    var connectionsOpened: Int
    var nextOrderID: Int

    var errors: Int { errorsByStatus.values.reduce(0, +) + transportErrors }
}

/// Keeps `connections` keep-alive connections busy, each posting the next signed order as soon as the last
/// one is answered (closed loop: the offered load adapts to what the server sustains, so latency is the
/// server's, not a queue in the generator). Every phase ends by itself: by time, by count, or both.
func runIntakeLoad(_ settings: IntakeLoadSettings, webhooks: WooOrderWebhooks) async -> IntakeLoadResult {
    var http = HTTPClientConfiguration()
    http.maxConnections = settings.connections
    http.totalTimeout = .seconds(30)
    let client = CurlHTTPClient(configuration: http)
    defer { client.shutdown() }
    let orders = SharedCounter(settings.firstOrderID)

    var warmupRequests = 0
    var warmupDurable = 0
    if settings.warmup > .zero {
        let warm = await loadPhase(client: client, settings: settings, webhooks: webhooks, orders: orders,
                                   until: .now + settings.warmup, budget: nil)
        warmupRequests = warm.reduce(0) { $0 + $1.sent }
        warmupDurable = warm.reduce(0) { $0 + $1.latencies.count }
    }

    // Bounded even when only a count is given: a stalled server must not hang the benchmark.
    let limit = settings.duration ?? (settings.requests == nil ? .seconds(10) : .seconds(300))
    let start = ContinuousClock.now
    let lanes = await loadPhase(client: client, settings: settings, webhooks: webhooks, orders: orders,
                                until: start + limit, budget: settings.requests)
    let elapsed = (ContinuousClock.now - start).inMilliseconds / 1000

    var latencies: [Double] = []
    var errors: [String: Int] = [:]
    var transport = 0
    var firstError: String?
    for lane in lanes {
        latencies += lane.latencies
        errors.merge(lane.errorsByStatus, uniquingKeysWith: +)
        transport += lane.transportErrors
        if firstError == nil { firstError = lane.firstError }
    }
    return IntakeLoadResult(durable: latencies.count, errorsByStatus: errors, transportErrors: transport,
                            firstError: firstError, elapsedSeconds: elapsed,
                            deliveriesPerSecond: Double(latencies.count) / max(elapsed, 0.001),
                            latency: LatencyStats(milliseconds: latencies), warmupRequests: warmupRequests,
                            warmupDurable: warmupDurable,
                            connectionsOpened: client.connectionsOpened, nextOrderID: orders.peek())
}

/// What one connection's loop saw.
private struct Lane: Sendable {
    var sent = 0
    var latencies: [Double] = []
    var errorsByStatus: [String: Int] = [:]
    var transportErrors = 0
    var firstError: String?
}

private func loadPhase(client: CurlHTTPClient, settings: IntakeLoadSettings, webhooks: WooOrderWebhooks, orders: SharedCounter,
                       until deadline: ContinuousClock.Instant, budget: Int?) async -> [Lane] {
    let issued = SharedCounter(0)
    return await withTaskGroup(of: Lane.self) { group in
        for _ in 0..<settings.connections {
            group.addTask {
                var lane = Lane()
                lane.latencies.reserveCapacity(4096)
                while ContinuousClock.now < deadline {
                    if let budget, issued.next() >= budget { break }
                    let request = webhooks.request(url: settings.url, orderID: orders.next())
                    let sentAt = ContinuousClock.now
                    lane.sent += 1
                    do {
                        let response = try await client.execute(request)
                        let latency = (ContinuousClock.now - sentAt).inMilliseconds
                        if response.status == 200 {
                            lane.latencies.append(latency)
                        } else {
                            lane.errorsByStatus[String(response.status), default: 0] += 1
                            if lane.firstError == nil { lane.firstError = "HTTP \(response.status): \(response.bodyText.prefix(300))" }
                        }
                    } catch {
                        lane.transportErrors += 1
                        if lane.firstError == nil { lane.firstError = "\(error)" }
                    }
                }
                return lane
            }
        }
        var lanes: [Lane] = []
        for await lane in group { lanes.append(lane) }
        return lanes
    }
}

/// A shared counter for the load loops.
final class SharedCounter: Sendable {
    private let value: Atomic<Int>
    init(_ start: Int) { value = Atomic(start) }
    /// Returns the current value and moves on by one.
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    func peek() -> Int { value.load(ordering: .relaxed) }
}
