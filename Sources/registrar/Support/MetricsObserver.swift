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
