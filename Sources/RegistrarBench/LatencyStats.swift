import Foundation

/// Latency percentiles over a set of samples, in milliseconds.
///
/// Nearest-rank percentiles over every sample (no histogram buckets): the runs are short enough that
/// keeping all samples is cheap, and exact ranks avoid a bucket width hiding a tail.
struct LatencyStats: Sendable, Codable, Equatable {
    var count: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var max: Double
    var mean: Double

    init(milliseconds samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        max = sorted.last ?? 0
        mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
    }

    init(_ durations: [Duration]) {
        self.init(milliseconds: durations.map(\.inMilliseconds))
    }
}

extension Duration {
    var inMilliseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }
}
