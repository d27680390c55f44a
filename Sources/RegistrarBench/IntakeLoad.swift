import Foundation
import Synchronization

/// How hard and how long to push an intake endpoint.
struct IntakeLoadSettings: Sendable {
    var url: String
    /// Further servers of the same endpoint (other instances behind a load balancer): the connections are split
    /// evenly between `url` and these.
    var moreURLs: [String] = []
    var connections: Int
    var client: LoadClientKind = .nio
    /// Stops sending new requests after this long (the measured phase only).
    var duration: Duration?
    /// Stops after this many requests (the measured phase only).
    var requests: Int?
    /// Sent before measuring and not counted: first connections, SQLite's page cache, the allocator's pools.
    var warmup: Duration
    /// Order ids are unique across runs against the same database so that no delivery is a duplicate.
    var firstOrderID: Int
    /// The answer a request counts as done with (401 for the `rejected` scenario's badly signed posts).
    var expectedStatus = 200
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

/// Which HTTP client generates the load.
enum LoadClientKind: String, CaseIterable, Sendable, Codable {
    /// SwiftNIO on one event-loop thread, a hand-cut HTTP/1.1 parser: the lighter one (NIOLoadClient).
    case nio
    /// The project's libcurl client, as the workers use it (CurlLoadClient).
    case curl

    var label: String {
        switch self {
        case .nio: "NIOLoadClient, one event-loop thread"
        case .curl: "CurlHTTPClient"
        }
    }
}

/// Drives `connections` keep-alive connections, each in a closed loop: post the next order as soon as the last
/// one is answered.
protocol LoadClient: Sendable {
    /// Every connection posts order after order (ids from `orders`) until `deadline`, or until `budget` requests
    /// have been issued in the phase; a request in flight then still gets its answer or its timeout.
    func run(until deadline: ContinuousClock.Instant, budget: Int?, orders: SharedCounter) async -> [Lane]
    /// Connections opened so far, reconnections included.
    var connectionsOpened: Int { get async }
    func shutdown() async
}

/// What one connection's loop saw in one phase.
struct Lane: Sendable {
    var sent = 0
    var latencies: [Double] = []
    var errorsByStatus: [String: Int] = [:]
    var transportErrors = 0
    var firstError: String?

    init() { latencies.reserveCapacity(4096) }
}

/// Keeps `connections` keep-alive connections busy, each posting the next signed order as soon as the last
/// one is answered (closed loop: the offered load adapts to what the server sustains, so latency is the
/// server's, not a queue in the generator). Every phase ends by itself: by time, by count, or both.
func runIntakeLoad(_ settings: IntakeLoadSettings, webhooks: WooOrderWebhooks) async throws -> IntakeLoadResult {
    let urls = [settings.url] + settings.moreURLs
    var clients: [any LoadClient] = []
    for (index, url) in urls.enumerated() {
        let connections = settings.connections.share(index, of: urls.count)
        let client: any LoadClient = switch settings.client {
        case .nio: try NIOLoadClient(url: url, connections: connections, requests: webhooks, expectedStatus: settings.expectedStatus)
        case .curl: CurlLoadClient(url: url, connections: connections, webhooks: webhooks, expectedStatus: settings.expectedStatus)
        }
        clients.append(client)
    }
    let client: any LoadClient = clients.count == 1 ? clients[0] : SplitLoadClient(clients: clients)
    let orders = SharedCounter(settings.firstOrderID)

    var warmupRequests = 0
    var warmupDurable = 0
    if settings.warmup > .zero {
        let warm = await client.run(until: .now + settings.warmup, budget: nil, orders: orders)
        warmupRequests = warm.reduce(0) { $0 + $1.sent }
        warmupDurable = warm.reduce(0) { $0 + $1.latencies.count }
    }

    // Bounded even when only a count is given: a stalled server must not hang the benchmark.
    let limit = settings.duration ?? (settings.requests == nil ? .seconds(10) : .seconds(300))
    let start = ContinuousClock.now
    let lanes = await client.run(until: start + limit, budget: settings.requests, orders: orders)
    let elapsed = (ContinuousClock.now - start).inMilliseconds / 1000
    let opened = await client.connectionsOpened
    await client.shutdown()

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
                            warmupDurable: warmupDurable, connectionsOpened: opened, nextOrderID: orders.peek())
}

/// One load spread over several servers: each part runs its own connections to its own server, at once, with
/// order ids from the one counter.
struct SplitLoadClient: LoadClient {
    let clients: [any LoadClient]

    func run(until deadline: ContinuousClock.Instant, budget: Int?, orders: SharedCounter) async -> [Lane] {
        await withTaskGroup(of: [Lane].self) { group in
            // A budget is split like the connections.
            for (index, client) in clients.enumerated() {
                let share = budget.map { $0.share(index, of: clients.count) }
                group.addTask { await client.run(until: deadline, budget: share, orders: orders) }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
    }

    var connectionsOpened: Int {
        get async {
            var total = 0
            for client in clients { total += await client.connectionsOpened }
            return total
        }
    }

    func shutdown() async {
        for client in clients { await client.shutdown() }
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
