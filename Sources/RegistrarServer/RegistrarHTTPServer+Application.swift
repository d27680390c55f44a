import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import RegistrarCore

extension RegistrarHTTPServer {
    /// The Hummingbird application; `onListening` receives the bound port (useful with port 0).
    ///
    /// Connections are bounded two ways: at most ``effectiveMaxConnections()`` are open at once (beyond it the
    /// listener stops accepting and new ones wait in the kernel's backlog), and every connection has the header,
    /// body and keep-alive idle deadlines of ``ConnectionDeadlines``, so idle and slow clients give their slots back.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let limits = ConnectionDeadlines.Limits(header: Self.timeAmount(config.server.headerTimeoutSeconds),
                                                body: Self.timeAmount(config.server.bodyTimeoutSeconds),
                                                idle: Self.timeAmount(config.server.idleTimeoutSeconds))
        let timedOut = metrics.connectionsTimedOut(reasons: ConnectionDeadlines.Reason.allCases.map(\.rawValue))
        let onTimeout: @Sendable (ConnectionDeadlines.Reason) -> Void = { reason in timedOut[reason.rawValue]?.increment() }
        let open = metrics.connectionsOpen()
        let maxConnections = effectiveMaxConnections()
        let logger = self.logger
        return Application(
            router: router(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ConnectionDeadlineHandler(limits: limits, logger: logger, onTimeout: onTimeout)])),
            configuration: .init(address: .hostname(config.server.host, port: config.server.port),
                                 serverName: "registrar",
                                 // A burst of new connections beyond the default 256 overflows the accept queue:
                                 // the kernel drops their SYNs and each client retries only after a second. The
                                 // kernel caps this at net.core.somaxconn (4096 by default).
                                 backlog: 4096,
                                 availableConnectionsDelegate: CountedMaximumConnections(maxConnections, gauge: open)),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? config.server.port)
            },
            logger: logger
        )
    }

    /// `server.max_connections`, lowered when this process's open-file limit cannot hold that many connections
    /// besides the descriptors `serve` needs for itself. Accepting up to the limit would make `accept` fail with
    /// EMFILE: the listener would then back off and retry while every new connection, signed deliveries and
    /// `/readyz` included, waits.
    public func effectiveMaxConnections() -> Int {
        let configured = config.server.maxConnections
        guard let limit = Self.openFileLimit() else { return configured }
        let inUse = Self.descriptorsInUse() ?? 32
        // Per event-loop thread an epoll, an eventfd and a timerfd; per worker an Open edX or store connection,
        // and its token call; then SQLite's reader connections with their -wal and -shm files, the listener,
        // log files, and the few connections an accept burst takes past the maximum.
        let reserve = inUse + 3 * System.coreCount + 2 * config.jobs.concurrency + 64
        let usable = max(16, limit - reserve)
        if configured > usable {
            logger.warning(
                "the open-file limit holds only \(usable) connections: server.max_connections is lowered from \(configured); raise LimitNOFILE (ulimit -n) to at least \(configured + reserve)",
                metadata: ["open_file_limit": "\(limit)", "reserved": "\(reserve)"])
            return usable
        }
        return configured
    }

    static func timeAmount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64((seconds * 1_000_000_000).rounded()))
    }

    /// The soft RLIMIT_NOFILE now in force (`serve` raises it to the hard limit as it starts); nil if unlimited.
    static func openFileLimit() -> Int? {
        var limit = rlimit()
        #if os(Linux)
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        #else
        guard getrlimit(RLIMIT_NOFILE, &limit) == 0 else { return nil }
        #endif
        return limit.rlim_cur >= rlim_t(Int.max) ? nil : Int(limit.rlim_cur)
    }

    /// Descriptors open in this process now.
    static func descriptorsInUse() -> Int? {
        #if os(Linux)
        let directory = "/proc/self/fd"
        #else
        let directory = "/dev/fd"
        #endif
        return (try? FileManager.default.contentsOfDirectory(atPath: directory)).map(\.count)
    }
}

/// Hummingbird's `MaximumAvailableConnections`, with the number open published as a gauge.
struct CountedMaximumConnections: AvailableConnectionsDelegate {
    let maxConnections: Int
    let gauge: Gauge
    var open = 0

    init(_ maxConnections: Int, gauge: Gauge) {
        self.maxConnections = maxConnections
        self.gauge = gauge
    }

    mutating func connectionOpened() {
        open += 1
        gauge.set(Int64(open))
    }

    mutating func connectionClosed() {
        open -= 1
        gauge.set(Int64(open))
    }

    func isAcceptingNewConnections() -> Bool {
        open < maxConnections
    }
}
