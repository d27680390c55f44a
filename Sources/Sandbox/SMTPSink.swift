import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A message the sink accepted, as it came over SMTP.
public struct SinkMessage: Sendable, Codable, Equatable {
    public var from: String
    public var to: [String]
    /// The DATA section, dot-unstuffed, CRLF line ends.
    public var data: String
    public var receivedAt: Date

    enum CodingKeys: String, CodingKey {
        case from, to, data
        case receivedAt = "received_at"
    }
}

/// What the sink has accepted, shared with the control plane (`GET /__sandbox/mail`).
final class Mailbox: Sendable {
    private let messages = Mutex<[SinkMessage]>([])
    func append(_ message: SinkMessage) { messages.withLock { $0.append(message) } }
    var all: [SinkMessage] { messages.withLock { $0 } }
    func removeAll() { messages.withLock { $0.removeAll() } }
}

/// The sandbox's SMTP sink: enough of RFC 5321 for a client to deliver mail (EHLO/HELO, MAIL, RCPT, DATA,
/// RSET, NOOP, QUIT; AUTH PLAIN and LOGIN accepted with any credentials), no TLS. Every message is kept.
final class SMTPSink: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    static func start(host: String, port: Int, mailbox: Mailbox) async throws -> SMTPSink {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPSession(mailbox: mailbox))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return SMTPSink(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// One client's SMTP conversation.
private final class SMTPSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let mailbox: Mailbox
    var pending: [UInt8] = []
    var from: String?
    var recipients: [String] = []
    var data: [String]?
    var authStep = 0

    init(mailbox: Mailbox) { self.mailbox = mailbox }

    func channelActive(context: ChannelHandlerContext) {
        reply(context, "220 sandbox.registrar ESMTP sink")
    }

    func channelRead(context: ChannelHandlerContext, data buffer: NIOAny) {
        var bytes = unwrapInboundIn(buffer)
        pending += bytes.readBytes(length: bytes.readableBytes) ?? []
        while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(pending[..<end])
            pending.removeSubrange(...end)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            handle(String(decoding: line, as: UTF8.self), context)
        }
    }

    private func handle(_ line: String, _ context: ChannelHandlerContext) {
        if var lines = data {
            if line == "." {
                mailbox.append(SinkMessage(from: from ?? "", to: recipients, data: lines.joined(separator: "\r\n") + "\r\n",
                                           receivedAt: Date()))
                data = nil
                from = nil
                recipients = []
                reply(context, "250 2.0.0 queued in the sandbox")
            } else {
                lines.append(line.hasPrefix(".") ? String(line.dropFirst()) : line)
                data = lines
            }
            return
        }
        // AUTH continuations: step 1 waits for the user name (LOGIN), step 2 for the password (LOGIN), step 3 for
        // PLAIN's credentials. Any are accepted.
        if authStep > 0 {
            if authStep == 1 {
                authStep = 2
                reply(context, "334 UGFzc3dvcmQ6")
            } else {
                authStep = 0
                reply(context, "235 2.7.0 authenticated")
            }
            return
        }
        let upper = line.uppercased()
        if upper.hasPrefix("EHLO") {
            reply(context, "250-sandbox.registrar\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 10485760")
        } else if upper.hasPrefix("HELO") {
            reply(context, "250 sandbox.registrar")
        } else if upper.hasPrefix("AUTH LOGIN") {
            // With an initial response the user name came along: the password is next.
            let initial = upper.split(separator: " ").count > 2
            authStep = initial ? 2 : 1
            reply(context, initial ? "334 UGFzc3dvcmQ6" : "334 VXNlcm5hbWU6")
        } else if upper.hasPrefix("AUTH PLAIN") {
            if upper.split(separator: " ").count > 2 {
                reply(context, "235 2.7.0 authenticated")
            } else {
                authStep = 3
                reply(context, "334 ")
            }
        } else if upper.hasPrefix("AUTH") {
            reply(context, "504 5.5.4 mechanism not supported")
        } else if upper.hasPrefix("MAIL FROM:") {
            from = Self.address(line.dropFirst(10))
            recipients = []
            reply(context, "250 2.1.0 ok")
        } else if upper.hasPrefix("RCPT TO:") {
            guard from != nil else { return reply(context, "503 5.5.1 MAIL first") }
            recipients.append(Self.address(line.dropFirst(8)))
            reply(context, "250 2.1.5 ok")
        } else if upper == "DATA" {
            guard from != nil, !recipients.isEmpty else { return reply(context, "503 5.5.1 RCPT first") }
            data = []
            reply(context, "354 end with <CRLF>.<CRLF>")
        } else if upper == "RSET" {
            from = nil
            recipients = []
            reply(context, "250 2.0.0 ok")
        } else if upper == "NOOP" {
            reply(context, "250 2.0.0 ok")
        } else if upper == "QUIT" {
            reply(context, "221 2.0.0 bye")
            context.close(promise: nil)
        } else {
            reply(context, "502 5.5.2 not implemented")
        }
    }

    private static func address(_ text: Substring) -> String {
        var value = text.trimmingCharacters(in: .whitespaces)
        if let space = value.firstIndex(of: " ") { value = String(value[..<space]) }
        return value.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text + "\r\n")), promise: nil)
    }
}
