import CurlHTTP
import Foundation
import NIOCore
import NIOPosix

/// The intake load on SwiftNIO. The generator shares the server's two cores and the target counts its CPU, so
/// every connection lives on ONE event-loop thread and runs its closed loop from its own read callback: a
/// request costs its body and signature, one write and one read — no task, continuation or thread hop.
final class NIOLoadClient: LoadClient {
    private let group: MultiThreadedEventLoopGroup
    private let eventLoop: any EventLoop
    private let pool: NIOLoopBoundBox<ConnectionPool>

    /// - Parameter requests: what request `n` is; its path, when it names one, replaces the URL's.
    init(url: String, connections: Int, requests: any LoadRequests, expectedStatus: Int = 200) throws {
        guard let parts = URLComponents(string: url), parts.scheme == "http", let host = parts.host, let port = parts.port else {
            throw BenchError("the NIO load client needs an http://host:port/path URL, not \(url)")
        }
        let target = LoadTarget(host: host, port: port, requests: requests, expectedStatus: expectedStatus,
                                writer: HTTP1RequestWriter(method: "POST", path: parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath,
                                                           host: "\(host):\(port)"))
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        self.eventLoop = eventLoop
        pool = .makeBoxSendingValue(ConnectionPool(target: target, connections: connections, eventLoop: eventLoop),
                                    eventLoop: eventLoop)
    }

    func run(until deadline: ContinuousClock.Instant, budget: Int?, orders: SharedCounter) async -> [Lane] {
        let phase = LoadPhase(deadline: .now() + TimeAmount(deadline - .now), budget: budget, orders: orders)
        // Never fails: every lane's errors are counted in the lane.
        return (try? await eventLoop.flatSubmit { self.pool.value.run(phase) }.get()) ?? []
    }

    var connectionsOpened: Int {
        get async { (try? await eventLoop.submit { self.pool.value.opened }.get()) ?? 0 }
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}

/// What the n-th request of a run is.
protocol LoadRequests: Sendable {
    /// Its path, or nil for the URL's own (every request to one endpoint).
    func path(_ n: Int) -> String?
    func body(orderID n: Int) -> [UInt8]
    func headers(orderID n: Int, body: [UInt8]) -> HTTPHeaders
}

extension WooOrderWebhooks: LoadRequests {
    func path(_ n: Int) -> String? { nil }
}

/// Where to post and what.
private struct LoadTarget {
    var host: String
    var port: Int
    var requests: any LoadRequests
    var expectedStatus: Int
    var writer: HTTP1RequestWriter
}

/// One phase, as every connection sees it.
private struct LoadPhase: Sendable {
    var deadline: NIODeadline
    var budget: Int?
    var issued = SharedCounter(0)
    var orders: SharedCounter
}

/// The connections, on the event loop. They stay open from one phase to the next, as keep-alive ones do.
private final class ConnectionPool {
    /// What one request may take, so that a stalled server cannot hang the benchmark.
    static let requestTimeout = TimeAmount.seconds(30)

    private let connections: [LoadConnection]
    private let eventLoop: any EventLoop
    private var sweeping = false

    init(target: LoadTarget, connections: Int, eventLoop: any EventLoop) {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(Self.requestTimeout)
        self.connections = (0..<connections).map { _ in LoadConnection(target: target, bootstrap: bootstrap, eventLoop: eventLoop) }
        self.eventLoop = eventLoop
    }

    var opened: Int { connections.reduce(0) { $0 + $1.opened } }

    func run(_ phase: LoadPhase) -> EventLoopFuture<[Lane]> {
        if !sweeping {
            sweeping = true
            sweep()
        }
        return EventLoopFuture<Lane>.whenAllSucceed(connections.map { $0.run(phase) }, on: eventLoop)
    }

    /// One timer for all connections rather than one armed and cancelled per request: the timeout should never
    /// fire, so it is checked once a second (to within a second) instead of costing something on every request.
    private func sweep() {
        let now = NIODeadline.now()
        for connection in connections { connection.expire(olderThan: now - Self.requestTimeout) }
        eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { self.sweep() }
    }
}

/// One connection slot's closed loop, on the event loop: send, wait for the answer, count it, send the next;
/// reconnect when the server closes.
private final class LoadConnection {
    private let target: LoadTarget
    private let bootstrap: ClientBootstrap
    private let eventLoop: any EventLoop
    private var channel: (any Channel)?
    private var phase: LoadPhase?
    private var done: EventLoopPromise<Lane>?
    private var lane = Lane()
    /// When the request in flight was sent; nil when none is.
    private var sentAt: NIODeadline?
    /// Why the channel is being closed, to report when it is.
    private var failure: String?
    private(set) var opened = 0

    init(target: LoadTarget, bootstrap: ClientBootstrap, eventLoop: any EventLoop) {
        self.target = target
        self.bootstrap = bootstrap
        self.eventLoop = eventLoop
    }

    func run(_ phase: LoadPhase) -> EventLoopFuture<Lane> {
        let done = eventLoop.makePromise(of: Lane.self)
        self.phase = phase
        self.done = done
        lane = Lane()
        sendNext()
        return done.futureResult
    }

    private func sendNext() {
        guard let phase else { return }
        guard NIODeadline.now() < phase.deadline else { return finish() }
        guard let channel else { return connect() }
        if let budget = phase.budget, phase.issued.next() >= budget { return finish() }
        let orderID = phase.orders.next()
        let body = target.requests.body(orderID: orderID)
        var request = channel.allocator.buffer(capacity: body.count + 1024)
        target.writer.write(path: target.requests.path(orderID), headers: target.requests.headers(orderID: orderID, body: body),
                            body: body, into: &request)
        lane.sent += 1
        sentAt = .now()
        channel.writeAndFlush(request, promise: nil)
    }

    private func finish() {
        let lane = self.lane
        phase = nil
        done?.succeed(lane)
        done = nil
    }

    private func connect() {
        bootstrap.connect(host: target.host, port: target.port).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                do {
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler(connection: self))
                } catch {
                    channel.close(promise: nil)
                    return self.refused(error)
                }
                self.channel = channel
                self.failure = nil
                self.opened += 1
                self.sendNext()
            case .failure(let error):
                self.refused(error)
            }
        }
    }

    /// Counted as a request that failed, and the lane ends: its run already fails on this error, and retrying
    /// a refused connection at once would only spin.
    private func refused(_ error: any Error) {
        lane.sent += 1
        record(transportError: "connect: \(error)")
        finish()
    }

    private func record(transportError text: String) {
        lane.transportErrors += 1
        if lane.firstError == nil { lane.firstError = text }
    }

    /// From the handler, for each complete response.
    fileprivate func received(_ response: HTTP1Response) {
        guard let sentAt else {
            record(transportError: "HTTP \(response.status) with no request in flight")
            channel?.close(promise: nil)
            return
        }
        self.sentAt = nil
        if response.status == target.expectedStatus {
            lane.latencies.append(Double((NIODeadline.now() - sentAt).nanoseconds) / 1e6)
        } else {
            lane.errorsByStatus[String(response.status), default: 0] += 1
            if lane.firstError == nil {
                lane.firstError = "HTTP \(response.status): \(String(buffer: response.body).prefix(300))"
            }
        }
        if response.closes, let closing = channel {
            // Closed here, not when the server's FIN arrives, so the next request cannot go out on it meanwhile;
            // forgotten first, because closing calls `closed` at once and that must not reconnect as well.
            channel = nil
            closing.close(promise: nil)
        }
        sendNext()
    }

    /// From the handler: the error the channel is about to close with.
    fileprivate func failed(_ error: any Error) {
        if failure == nil { failure = "\(error)" }
    }

    /// From the handler, once per channel.
    fileprivate func closed(_ closing: any Channel) {
        guard closing === channel else { return }
        channel = nil
        if sentAt != nil {
            sentAt = nil
            record(transportError: failure ?? "the server closed the connection without answering")
        }
        failure = nil
        sendNext()
    }

    /// From the pool's sweep.
    func expire(olderThan limit: NIODeadline) {
        guard let sentAt, sentAt < limit else { return }
        failure = "no answer within \(ConnectionPool.requestTimeout.nanoseconds / 1_000_000_000) s"
        channel?.close(promise: nil)
    }
}

/// Hands a connection's responses, errors and end to its LoadConnection.
private final class ResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: LoadConnection
    private var scanner = HTTP1ResponseScanner()

    init(connection: LoadConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        scanner.append(&bytes)
        do {
            // A response can close the channel (Connection: close); what follows it is not this connection's.
            while context.channel.isActive, let response = try scanner.next() { connection.received(response) }
        } catch {
            connection.failed(error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.failed(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.closed(context.channel)
    }
}
