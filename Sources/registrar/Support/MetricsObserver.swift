import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarWorker

/// Feeds the worker pool's attempts into the metrics.
struct MetricsWorkerObserver: WorkerObserver {
    let metrics: RegistrarMetrics
    func attemptFinished(kind: JobKind, outcome: HandlerOutcome, newState: JobState?, duration: Duration) {
        metrics.attemptFinished(kind: kind, outcome: outcome.label, newState: newState?.rawValue ?? "lease-lost",
                                duration: duration)
    }
}

/// Feeds catch-up walks and webhook checks into the metrics.
struct MetricsCatchUpObserver: CatchUpObserver {
    let metrics: RegistrarMetrics
    func catchUpFinished(store: String, report: WooCommerceCatchUp.Report, succeeded: Bool, duration: Duration) {
        metrics.catchUpFinished(store: store, listed: report.listed, recovered: report.recovered, succeeded: succeeded,
                                duration: duration, at: Date())
    }

    func webhooksChecked(store: String, health: WooWebhookHealth) {
        metrics.webhooksChecked(store: store, webhooks: health.webhooks.map { ($0.id, $0.isActive) })
    }
}
