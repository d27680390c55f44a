import CoreMetrics
import Foundation
import Prometheus
import RegistrarCore
import RegistrarStore
import Synchronization

/// Every figure Registrar exposes on `/metrics`, created through swift-metrics with an explicit Prometheus
/// factory (no process-wide bootstrap, so tests and the demo can each have their own registry).
public final class RegistrarMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The counters counted per delivery, made once: making one looks it up in the registry under a lock, and
    /// intake counts two per delivery at thousands a second.
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let throttled = Mutex<(count: Int, last: Date?)>((0, nil))

    /// 429s answered to this process's outbound calls since it started, and the last one's time (the console's
    /// overview).
    public func throttledCalls() -> (count: Int, last: Date?) { throttled.withLock { $0 } }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        self.factory = factory
    }

    public func delivery(source: String, verdict: String) {
        counter("deliveries " + source + " " + verdict) {
            Counter(label: "registrar_deliveries_total", dimensions: [("source", source), ("verdict", verdict)],
                    factory: $0)
        }.increment()
    }

    /// A rejection answered 429 and not recorded: its client was over `server.rejections_per_minute`.
    public func rejectionLimited(source: String) {
        counter("rejections limited " + source) {
            Counter(label: "registrar_rejections_limited_total", dimensions: [("source", source)], factory: $0)
        }.increment()
    }

    public func jobsCreated(kind: JobKind, count: Int = 1) {
        counter("jobs created " + kind.rawValue) {
            Counter(label: "registrar_jobs_created_total", dimensions: [("kind", kind.rawValue)], factory: $0)
        }.increment(by: count)
    }

    private func counter(_ key: String, make: (PrometheusMetricsFactory) -> CoreMetrics.Counter) -> CoreMetrics.Counter {
        counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = make(factory)
            counters[key] = counter
            return counter
        }
    }

    public func attemptFinished(kind: JobKind, outcome: String, newState: String, duration: Duration) {
        Counter(label: "registrar_job_attempts_total", dimensions: [("kind", kind.rawValue), ("outcome", outcome)],
                factory: factory).increment()
        if ["succeeded", "failed"].contains(newState) {
            Counter(label: "registrar_jobs_finished_total", dimensions: [("kind", kind.rawValue), ("state", newState)],
                    factory: factory).increment()
        }
        Timer(label: "registrar_attempt_duration_seconds", dimensions: [("kind", kind.rawValue)], factory: factory)
            .recordNanoseconds(Int64(duration.seconds * 1e9))
    }

    /// An outbound call to Open edX or a store, by endpoint and status class (2xx, 4xx, 5xx, or "error" when
    /// no answer came).
    public func outboundCall(target: String, endpoint: String, status: Int?) {
        if status == 429 { throttled.withLock { $0 = ($0.count + 1, Date()) } }
        let statusClass = status.map { "\($0 / 100)xx" } ?? "error"
        Counter(label: "registrar_outbound_calls_total",
                dimensions: [("target", target), ("endpoint", endpoint), ("status", statusClass)], factory: factory).increment()
        if endpoint == "oauth2.access_token", let status, (200..<300).contains(status) {
            Counter(label: "registrar_token_refreshes_total", factory: factory).increment()
        }
    }

    /// A WooCommerce catch-up walk ended: orders listed and recovered (their jobs created by catch-up, not a
    /// webhook), its duration, and when the store last caught up successfully.
    public func catchUpFinished(store: String, listed: Int, recovered: Int, succeeded: Bool, duration: Duration,
                                at now: Date) {
        Counter(label: "registrar_woocommerce_catch_up_orders_listed_total", dimensions: [("store", store)], factory: factory)
            .increment(by: listed)
        Counter(label: "registrar_woocommerce_catch_up_orders_recovered_total", dimensions: [("store", store)], factory: factory)
            .increment(by: recovered)
        Counter(label: "registrar_woocommerce_catch_ups_total",
                dimensions: [("store", store), ("result", succeeded ? "succeeded" : "failed")], factory: factory).increment()
        Timer(label: "registrar_woocommerce_catch_up_duration_seconds", dimensions: [("store", store)], factory: factory)
            .recordNanoseconds(Int64(duration.seconds * 1e9))
        if succeeded {
            Gauge(label: "registrar_woocommerce_catch_up_last_success_timestamp_seconds", dimensions: [("store", store)],
                  factory: factory).record(now.timeIntervalSince1970)
        }
    }

    /// The webhooks that deliver to a store's intake path: 1 per active one, 0 per paused or disabled one, and
    /// how many there are (0 when none points here).
    public func webhooksChecked(store: String, webhooks: [(id: Int, active: Bool)]) {
        for webhook in webhooks {
            Gauge(label: "registrar_woocommerce_webhook_active", dimensions: [("store", store), ("webhook", String(webhook.id))],
                  factory: factory).record(webhook.active ? 1 : 0)
        }
        Gauge(label: "registrar_woocommerce_webhooks", dimensions: [("store", store)], factory: factory)
            .record(webhooks.count)
    }

    /// Connections closed because the client was too slow (header, body) or stayed idle, one counter per
    /// reason, made once for the connection handlers to count on.
    func connectionsTimedOut(reasons: [String]) -> [String: Prometheus.Counter] {
        Dictionary(uniqueKeysWithValues: reasons.map { reason in
            (reason, registry.makeCounter(descriptor: MetricNameDescriptor(
                namespace: "registrar", subsystem: "http", metricName: "connections_timed_out", unitName: "total",
                helpText: "Connections closed because the client was too slow (header, body) or stayed idle."), labels: [("reason", reason)]))
        })
    }

    /// HTTP connections open now (set by the listener's connection count).
    func connectionsOpen() -> Prometheus.Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "registrar", subsystem: "http", metricName: "connections_open",
                                                            unitName: "", helpText: "HTTP connections open now."))
    }

    public func groupCommit(batchSize: Int) {
        Recorder(label: "registrar_group_commit_batch_size", aggregate: true, factory: factory).record(batchSize)
    }

    /// Queue depth by state and the age of the oldest due job: read from the store at scrape time, so they are
    /// right even for jobs added or replayed by other processes.
    public func refreshQueue(from store: any JobOperations & StoreHealth) async {
        guard let stats = try? await store.stats() else { return }
        for state in JobState.allCases {
            Gauge(label: "registrar_jobs", dimensions: [("state", state.rawValue)], factory: factory)
                .record(stats.total(state: state))
        }
        Gauge(label: "registrar_oldest_due_job_age_seconds", factory: factory).record(stats.oldestDueAge?.seconds ?? 0)
        if let footprint = try? await store.footprint() {
            Gauge(label: "registrar_database_bytes", factory: factory).record(footprint.databaseBytes)
            if let free = footprint.freeBytes {
                Gauge(label: "registrar_database_volume_free_bytes", factory: factory).record(free)
            }
        }
        let writes = store.writeStats
        Gauge(label: "registrar_write_transactions", factory: factory).record(writes.transactions)
        Gauge(label: "registrar_writes", factory: factory).record(writes.writes)
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
