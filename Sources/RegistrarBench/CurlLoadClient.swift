import CurlHTTP

/// The intake load over the project's libcurl client: one task per connection, each request a continuation
/// resumed from curl's own thread. Kept to compare with, and to load the server the way the workers' client
/// talks HTTP.
struct CurlLoadClient: LoadClient {
    private let client: CurlHTTPClient
    private let url: String
    private let connections: Int
    private let webhooks: WooOrderWebhooks
    private let expectedStatus: Int

    init(url: String, connections: Int, webhooks: WooOrderWebhooks, expectedStatus: Int = 200) {
        self.expectedStatus = expectedStatus
        var http = HTTPClientConfiguration()
        http.maxConnections = connections
        http.totalTimeout = .seconds(30)
        client = CurlHTTPClient(configuration: http)
        self.url = url
        self.connections = connections
        self.webhooks = webhooks
    }

    var connectionsOpened: Int { client.connectionsOpened }

    func shutdown() async { client.shutdown() }

    func run(until deadline: ContinuousClock.Instant, budget: Int?, orders: SharedCounter) async -> [Lane] {
        let issued = SharedCounter(0)
        return await withTaskGroup(of: Lane.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var lane = Lane()
                    while ContinuousClock.now < deadline {
                        if let budget, issued.next() >= budget { break }
                        let request = webhooks.request(url: url, orderID: orders.next())
                        let sentAt = ContinuousClock.now
                        lane.sent += 1
                        do {
                            let response = try await client.execute(request)
                            let latency = (ContinuousClock.now - sentAt).inMilliseconds
                            if response.status == expectedStatus {
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
}
