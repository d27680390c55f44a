import Foundation
import PostgresNIO
import RegistrarStore

/// What `registrar-bench` reads back from a PostgreSQL database after a run.
extension PostgresStore {
    /// Deliveries answered 200, and jobs, as committed.
    public func benchmarkCounts() async throws -> (acceptedDeliveries: Int, jobs: Int) {
        try await snapshot { tx in
            (try await tx.value("SELECT count(*) FROM deliveries WHERE http_status = 200", as: Int.self) ?? 0,
             try await tx.value("SELECT count(*) FROM jobs", as: Int.self) ?? 0)
        }
    }
}
