import Logging
import NIOCore
// HTTPRequestPart / HTTPResponsePart: what Hummingbird's HTTP/1 pipeline carries after its codec.
import NIOHTTPTypes

/// When a connection's client has been too slow, and what for.
///
/// One connection alternates between the client's turn (sending a request) and the server's (answering it):
///
/// - **header**: from the moment the connection opens, or the first bytes of a request arrive on a kept-alive
///   connection, the request's complete head must arrive within `header`. A client that opens a connection and
///   says nothing, or sends its head a byte at a time (slow loris), is closed.
/// - **body**: from the complete head, the whole body (the request's end) must arrive within `body`, however
///   steadily it trickles in.
/// - **idle**: from the moment the last response is written on a kept-alive connection with nothing received
///   since, the next request must begin within `idle`.
/// - While the server is answering (a request read, its response not yet written) no deadline runs: that time
///   is the server's, bounded by its own timeouts.
///
/// A pure state machine over deadlines, so that it can be read (and tested) without a channel.
struct ConnectionDeadlines {
    enum Reason: String, Sendable, CaseIterable {
        case header = "header_timeout"
        case body = "body_timeout"
        case idle = "idle_timeout"
    }

    struct Limits: Sendable, Equatable {
        var header: TimeAmount
        var body: TimeAmount
        var idle: TimeAmount
    }

    let limits: Limits
    /// A request's head has arrived and its end has not.
    private(set) var readingRequest = false
    /// Requests whose response end has not been written (more than one only when a client pipelines).
    private(set) var unanswered = 0
    /// When the head now awaited began: the connection opened, or bytes arrived that made no part yet.
    private var headSince: NIODeadline?
    private var bodySince: NIODeadline?
    private var idleSince: NIODeadline?
    /// Whether the bytes of the current socket read decoded into at least one request part.
    private var partsInThisRead = false

    init(limits: Limits) {
        self.limits = limits
    }

    /// The deadline in force and what missing it means; `nil` while it is the server's turn.
    var deadline: (at: NIODeadline, reason: Reason)? {
        if readingRequest, let bodySince { return (bodySince + limits.body, .body) }
        if unanswered > 0 { return nil }
        if let headSince { return (headSince + limits.header, .header) }
        if let idleSince { return (idleSince + limits.idle, .idle) }
        return nil
    }

    mutating func opened(at now: NIODeadline) {
        headSince = now
    }

    mutating func readPart(isHead: Bool, isEnd: Bool, at now: NIODeadline) {
        partsInThisRead = true
        if isHead {
            readingRequest = true
            unanswered += 1
            headSince = nil
            idleSince = nil
            bodySince = now
        } else if isEnd {
            readingRequest = false
            bodySince = nil
            // Answered before its body was all in (a refusal): the connection is idle from here.
            if unanswered == 0 { idleSince = now }
        }
    }

    /// After each socket read, once its bytes went through the HTTP decoder. Bytes that made no part at all,
    /// outside a request's body, are the beginning of a head: its header deadline starts now. (Bytes left over
    /// after a request's end in the same read are not seen here; the next read that adds to them starts it.)
    mutating func readComplete(at now: NIODeadline) {
        if !partsInThisRead, !readingRequest, headSince == nil {
            headSince = now
            idleSince = nil
        }
        partsInThisRead = false
    }

    mutating func wroteResponseEnd(at now: NIODeadline) {
        unanswered = max(0, unanswered - 1)
        guard unanswered == 0 else { return }
        if let headSince {
            // A pipelined head that had begun: the client gets the full header time from this response on.
            self.headSince = max(headSince, now)
        } else if !readingRequest {
            idleSince = now
        }
    }
}

/// Closes a connection whose client misses a deadline of ``ConnectionDeadlines``: the defence against idle and
/// slow-loris connections holding descriptors and connection slots.
///
/// It sits right after Hummingbird's HTTP/1 codec (`additionalChannelHandlers`), so it sees request parts as they
/// are decoded and response parts as they are written. A slow head never becomes a part; the handler still
/// learns that bytes arrived from `channelReadComplete`, which the decoder passes on after every socket read.
/// One timer per connection at most: it is moved earlier when a nearer deadline appears, and a timer that fires
/// early (the deadline moved later) schedules itself again.
final class ConnectionDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var state: ConnectionDeadlines
    private let logger: Logger
    private let onTimeout: @Sendable (ConnectionDeadlines.Reason) -> Void
    private var started = false
    private var closed = false
    private var timer: Scheduled<Void>?
    private var timerFiresAt: NIODeadline?

    init(limits: ConnectionDeadlines.Limits, logger: Logger,
         onTimeout: @escaping @Sendable (ConnectionDeadlines.Reason) -> Void = { _ in }) {
        state = ConnectionDeadlines(limits: limits)
        self.logger = logger
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: state.readPart(isHead: true, isEnd: false, at: .now())
        case .body: state.readPart(isHead: false, isEnd: false, at: .now())
        case .end: state.readPart(isHead: false, isEnd: true, at: .now())
        }
        rearm(context)
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        state.readComplete(at: .now())
        rearm(context)
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            state.wroteResponseEnd(at: .now())
            rearm(context)
        }
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        state.opened(at: .now())
        rearm(context)
    }

    /// Makes sure a timer fires no later than the deadline in force.
    private func rearm(_ context: ChannelHandlerContext) {
        guard !closed, let deadline = state.deadline?.at else { return }
        if let timerFiresAt, timerFiresAt <= deadline { return }
        cancelTimer()
        schedule(context, at: deadline)
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timerFiresAt = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timerFired(context)
        }
    }

    private func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        timerFiresAt = nil
        guard !closed, let (deadline, reason) = state.deadline else { return }
        guard deadline <= .now() else {
            schedule(context, at: deadline)
            return
        }
        closed = true
        logger.debug("closing a connection: the client was too slow", metadata: [
            "reason": "\(reason.rawValue)",
            "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "-")",
        ])
        onTimeout(reason)
        context.close(promise: nil)
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerFiresAt = nil
    }
}

@available(*, unavailable)
extension ConnectionDeadlineHandler: Sendable {}
