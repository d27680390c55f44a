import CurlHTTP
import Foundation
import Testing

@Suite("Concurrency, reuse, cancellation and shutdown")
struct ConcurrencyTests {
    @Test func twoHundredConcurrentRequestsAllComplete() async throws {
        var configuration = HTTPClientConfiguration()
        configuration.maxConnections = 16
        try await withServer(configuration: configuration) { server, client in
            let results = try await withThrowingTaskGroup(of: (Int, HTTPResponse).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let body = Array("request #\(index) — ñ".utf8)
                        let response = try await client.execute(HTTPRequest(
                            method: index % 2 == 0 ? "POST" : "PUT",
                            url: server.url("/echo"),
                            headers: ["X-Index": String(index)],
                            body: body
                        ))
                        return (index, response)
                    }
                }
                var collected: [Int: HTTPResponse] = [:]
                for try await (index, response) in group {
                    collected[index] = response
                }
                return collected
            }
            #expect(results.count == 200)
            for (index, response) in results {
                #expect(response.status == 200)
                // Each answer must belong to its own request, not a neighbour's.
                #expect(response.bodyText == "request #\(index) — ñ")
                #expect(response.header("x-echo-h-x-index") == String(index))
                #expect(response.header("x-echo-method") == (index % 2 == 0 ? "POST" : "PUT"))
            }
            #expect(client.connectionsOpened >= 1)
            #expect(client.connectionsOpened <= 16, "opened \(client.connectionsOpened) with a cap of 16")
        }
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await withServer { server, client in
            for index in 0..<50 {
                let response = try await client.execute(HTTPRequest(
                    method: "POST", url: server.url("/echo"), body: Array("\(index)".utf8)))
                #expect(response.bodyText == "\(index)")
            }
            #expect(client.connectionsOpened >= 1)
            #expect(client.connectionsOpened <= 2, "opened \(client.connectionsOpened) connections for 50 requests")
        }
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        try await withServer { server, client in
            let started = ContinuousClock.now
            let task = Task {
                try await client.execute(HTTPRequest(url: server.url("/slow/30000")))
            }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            // Far below the 30 s answer it gave up on; a machine busy with the whole suite has taken 5.6 s.
            #expect(ContinuousClock.now - started < .seconds(15))
            // The client is still usable afterwards.
            let response = try await client.execute(HTTPRequest(url: server.url("/echo")))
            #expect(response.status == 200)
        }
    }

    @Test func alreadyCancelledTaskNeverSends() async throws {
        try await withServer { server, client in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.execute(HTTPRequest(url: server.url("/slow/30000")))
            }
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(client.connectionsOpened == 0)
        }
    }

    @Test func cancellingManyInFlightRequests() async throws {
        try await withServer { server, client in
            let tasks = (0..<20).map { _ in
                Task { try await client.execute(HTTPRequest(url: server.url("/slow/30000"))) }
            }
            try await Task.sleep(for: .milliseconds(300))
            for task in tasks { task.cancel() }
            for task in tasks {
                let result = await task.result
                #expect(throws: CancellationError.self) { try result.get() }
            }
            let response = try await client.execute(HTTPRequest(url: server.url("/echo")))
            #expect(response.status == 200)
        }
    }

    @Test func shutdownFailsInFlightAndLaterRequests() async throws {
        try await withServer { server, client in
            let started = ContinuousClock.now
            let inFlight = Task {
                try await client.execute(HTTPRequest(url: server.url("/slow/30000")))
            }
            try await Task.sleep(for: .milliseconds(300))
            client.shutdown()
            client.shutdown()  // idempotent
            let result = await inFlight.result
            #expect(throws: HTTPClientError.shutdown) { try result.get() }
            // Far below the 30 s answer it gave up on; a machine busy with the whole suite has taken 5.6 s.
            #expect(ContinuousClock.now - started < .seconds(15))
            await #expect(throws: HTTPClientError.shutdown) {
                _ = try await client.execute(HTTPRequest(url: server.url("/echo")))
            }
        }
    }

    @Test func clientsAreIndependent() async throws {
        try await withServer { server, first in
            let second = CurlHTTPClient()
            second.shutdown()
            let response = try await first.execute(HTTPRequest(url: server.url("/echo")))
            #expect(response.status == 200)
        }
    }
}
