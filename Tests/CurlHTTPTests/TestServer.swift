import CurlHTTP
import Foundation
import TestSupport
import Hummingbird
import Logging

typealias FieldName = HTTPFields.Element.Name

/// A real Hummingbird server on an ephemeral loopback port, so the client is
/// exercised over actual TCP and HTTP/1.1 rather than a mock.
///
/// Routes:
/// - `/echo` (GET, POST, PUT, PATCH, DELETE): body echoed byte for byte;
///   `x-echo-method` carries the method, `x-echo-h-<name>` each request header.
/// - `/status/:code`: that status; `X-Send-Retry-After` is returned as `Retry-After`.
/// - `/slow/:ms`: answers "done" after sleeping that long.
/// - `/bytes/:count`: a body of `count` bytes cycling through 0...255.
/// - `/multi`: two `X-Multi` header fields.
struct TestServer {
    let port: Int
    private let task: Task<Void, Never>

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func url(_ path: String) -> String { baseURL + path }

    static func start() async throws -> TestServer {
        let router = Router()
        let echo: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 64 << 20)
            var headers = HTTPFields()
            headers[FieldName("x-echo-method")!] = request.method.rawValue
            for field in request.headers {
                headers.append(.init(name: FieldName("x-echo-h-" + field.name.canonicalName)!, value: field.value))
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        router.get("/echo", use: echo)
        router.post("/echo", use: echo)
        router.put("/echo", use: echo)
        router.patch("/echo", use: echo)
        router.delete("/echo", use: echo)
        router.get("/status/:code") { request, context -> Response in
            let code = context.parameters.get("code", as: Int.self) ?? 500
            var headers = HTTPFields()
            if let retryAfter = request.headers[FieldName("x-send-retry-after")!] {
                headers[.retryAfter] = retryAfter
            }
            return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(string: "status \(code)")))
        }
        router.get("/slow/:ms") { _, context -> Response in
            let ms = context.parameters.get("ms", as: Int.self) ?? 1000
            try await Task.sleep(for: .milliseconds(ms))
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "done")))
        }
        router.get("/bytes/:count") { _, context -> Response in
            let count = context.parameters.get("count", as: Int.self) ?? 0
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/multi") { _, _ -> Response in
            var headers = HTTPFields()
            headers.append(.init(name: FieldName("x-multi")!, value: "one"))
            headers.append(.init(name: FieldName("x-multi")!, value: "two"))
            return Response(status: .noContent, headers: headers)
        }

        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            // Stopping by cancellation makes Hummingbird log an error per test; it is expected, not news.
            logger: Logger(label: "test-server", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let task = Task {
            try? await app.run()
            // Unblocks start() if the server failed before it was listening.
            portContinuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw TestServerError.didNotStart
        }
        return TestServer(port: port, task: task)
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}

enum TestServerError: Error {
    case didNotStart
}

/// Runs `body` against a fresh server and client, tearing both down after.
func withServer<T>(
    configuration: HTTPClientConfiguration = .init(),
    _ body: (TestServer, CurlHTTPClient) async throws -> T
) async throws -> T {
    let server = try await TestServer.start()
    let client = CurlHTTPClient(configuration: configuration)
    do {
        let result = try await body(server, client)
        client.shutdown()
        await server.stop()
        return result
    } catch {
        client.shutdown()
        await server.stop()
        throw error
    }
}
