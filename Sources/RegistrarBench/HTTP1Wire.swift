import CurlHTTP
import NIOCore

/// The request bytes of the NIO load client, written straight into the buffer that goes to the socket.
struct HTTP1RequestWriter: Sendable {
    /// The request line and Host: the same for every request of a run that does not name its own path.
    private let head: [UInt8]
    private let method: String
    private let host: String

    init(method: String, path: String, host: String) {
        head = Array("\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n".utf8)
        self.method = method
        self.host = host
    }

    /// - Parameter path: this request's own path; nil for the run's.
    func write(path: String? = nil, headers: HTTPHeaders, body: [UInt8], into buffer: inout ByteBuffer) {
        if let path {
            buffer.writeString("\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n")
        } else {
            buffer.writeBytes(head)
        }
        for field in headers.fields {
            buffer.writeString(field.name)
            buffer.writeStaticString(": ")
            buffer.writeString(field.value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(body.count))
        buffer.writeStaticString("\r\nConnection: keep-alive\r\n\r\n")
        buffer.writeBytes(body)
    }
}

/// One response off the wire.
struct HTTP1Response {
    var status: Int
    var body: ByteBuffer
    /// The server said `Connection: close`: it will not read another request on this connection.
    var closes: Bool
}

/// Cuts responses out of a connection's bytes however the reads split them.
///
/// Only what a keep-alive HTTP/1.1 server answering with a length sends (Hummingbird always does): a status
/// line, headers, a Content-Length body. Chunked or unframed answers are refused rather than guessed at, so a
/// change on the server's side shows up as errors instead of as miscounted responses.
struct HTTP1ResponseScanner {
    private var pending: ByteBuffer?
    /// Far beyond any response of the intake endpoint: a peer that never ends its head is an error, not a leak.
    private static let maxHeadBytes = 64 * 1024

    mutating func append(_ bytes: inout ByteBuffer) {
        if pending == nil {
            pending = bytes
        } else {
            pending!.writeBuffer(&bytes)
        }
    }

    /// The next complete response, or nil until all of it has arrived.
    mutating func next() throws -> HTTP1Response? {
        guard var buffer = pending else { return nil }
        guard let head = try buffer.withUnsafeReadableBytes(Self.parseHead) else {
            if buffer.readableBytes > Self.maxHeadBytes { throw HTTP1WireError("no end of the response head in \(buffer.readableBytes) bytes") }
            return nil
        }
        guard buffer.readableBytes >= head.length + head.contentLength else { return nil }
        buffer.moveReaderIndex(forwardBy: head.length)
        let body = buffer.readSlice(length: head.contentLength)!
        pending = buffer.readableBytes > 0 ? buffer : nil
        return HTTP1Response(status: head.status, body: body, closes: head.closes)
    }

    private struct Head {
        var length: Int
        var status: Int
        var contentLength: Int
        var closes: Bool
    }

    /// Nil while the empty line that ends the head has not arrived.
    private static func parseHead(_ bytes: UnsafeRawBufferPointer) throws -> Head? {
        guard let statusEnd = lineEnd(bytes, from: 0) else { return nil }
        // "HTTP/1.x NNN": the minor version and the reason phrase do not matter here.
        guard statusEnd >= 12, bytes[0..<7].elementsEqual("HTTP/1.".utf8), bytes[8] == UInt8(ascii: " "),
              let status = decimal(bytes[9..<12]) else {
            throw HTTP1WireError("not an HTTP/1 status line: \(String(decoding: bytes[0..<min(statusEnd, 80)], as: UTF8.self))")
        }
        var contentLength: Int?
        var closes = false
        var line = statusEnd + 2
        while let end = lineEnd(bytes, from: line) {
            guard end > line else {
                // These carry no body by definition; every other answer must say how long its body is.
                let bodiless = (100..<200).contains(status) || status == 204 || status == 304
                guard let length = contentLength ?? (bodiless ? 0 : nil) else {
                    throw HTTP1WireError("HTTP \(status) without Content-Length is not supported by the load client")
                }
                return Head(length: end + 2, status: status, contentLength: length, closes: closes)
            }
            if let colon = bytes[line..<end].firstIndex(of: UInt8(ascii: ":")) {
                let name = bytes[line..<colon]
                let value = trimmed(bytes[(colon + 1)..<end])
                if equalsIgnoringCase(name, "content-length") {
                    guard let length = decimal(value) else { throw HTTP1WireError("bad Content-Length") }
                    contentLength = length
                } else if equalsIgnoringCase(name, "transfer-encoding") {
                    throw HTTP1WireError("Transfer-Encoding is not supported by the load client")
                } else if equalsIgnoringCase(name, "connection") {
                    closes = equalsIgnoringCase(value, "close")
                }
            }
            line = end + 2
        }
        return nil
    }

    /// Where the CRLF ending the line at `start` is.
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var bytes = bytes
        while let first = bytes.first, first == 32 || first == 9 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 32 || last == 9 { bytes = bytes.dropLast() }
        return bytes
    }

    private static func decimal(_ bytes: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    /// `lowercase` must be lower-case ASCII.
    private static func equalsIgnoringCase(_ bytes: Slice<UnsafeRawBufferPointer>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        for (byte, lower) in zip(bytes, expected) {
            let folded: UInt8 = (65...90).contains(byte) ? byte | 0x20 : byte
            if folded != lower { return false }
        }
        return true
    }
}

struct HTTP1WireError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
