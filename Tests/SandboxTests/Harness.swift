import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Sandbox

/// One HTTP answer, with the body kept raw so tests can check exact bytes as well as JSON.
struct HTTPResult {
    var status: Int
    var headers: HTTPFields
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: SandboxJSON? { try? SandboxJSON.decode(body) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.canonicalName == name.lowercased() }?.value
    }
}

let demoCourse = "course-v1:edX+DemoX+Demo_Course"
let closedCourse = "course-v1:edX+Closed+2020"
let tinyCourse = "course-v1:edX+Tiny+1"

extension SandboxSeed {
    /// Small world for the tests: three learners, an open two-mode run, a closed run and a
    /// run with room for one, plus the WooCommerce order/refund of woocommerce.md.
    static var testSeed: SandboxSeed {
        SandboxSeed(
            users: [
                User(username: "alice", email: "alice@example.com", name: "Alice A"),
                User(username: "bob", email: "bob@example.com", name: "Bob B"),
                User(username: "carol", email: "Carol+tag@example.com", name: "Carol C"),
            ],
            courses: [
                Course(id: demoCourse, title: "Demo", modes: ["audit", "verified"]),
                Course(id: closedCourse, modes: ["audit", "verified"], enrollmentOpen: false),
                Course(id: tinyCourse, modes: ["audit"], maxEnrollments: 1),
            ],
            woocommerce: WooCommerce(
                orders: [
                    [
                        "id": 727, "number": "727", "status": "processing", "currency": "USD", "total": "18.00",
                        "date_created_gmt": "2026-01-10T09:00:00", "date_modified_gmt": "2026-01-10T09:00:00",
                        "billing": ["email": "alice@example.com"],
                        "line_items": [
                            ["id": 311, "product_id": 87, "name": "Demo verified", "quantity": 1, "total": "9.00"],
                            ["id": 312, "product_id": 88, "name": "Other", "quantity": 1, "total": "9.00"],
                        ],
                        "refunds": [["id": 724, "reason": "", "total": "-9.00"]],
                    ],
                    [
                        "id": 800, "number": "800", "status": "completed", "currency": "USD", "total": "5.00",
                        "date_created_gmt": "2026-02-01T09:00:00", "date_modified_gmt": "2026-02-01T09:00:00",
                        "line_items": [],
                    ],
                ],
                refunds: [
                    Refund(
                        orderID: 727,
                        refund: [
                            "id": 724, "amount": "9.00", "reason": "", "refunded_by": 1, "refunded_payment": false,
                            "line_items": [
                                [
                                    "id": 314, "product_id": 87, "quantity": -1, "total": "-9.00",
                                    "meta_data": [["id": 2076, "key": "_refunded_item_id", "value": "311"]],
                                ]
                            ],
                        ]
                    )
                ]
            )
        )
    }
}

/// A sandbox on a free port plus a small client for it.
struct Harness {
    let sandbox: RunningSandbox

    static func run(
        _ configure: (inout SandboxConfiguration) -> Void = { _ in },
        _ body: (Harness) async throws -> Void
    ) async throws {
        var configuration = SandboxConfiguration()
        configuration.port = 0
        configuration.seed = .testSeed
        configuration.logger.logLevel = .warning
        configure(&configuration)
        let sandbox = try await Sandbox.start(configuration)
        do {
            try await body(Harness(sandbox: sandbox))
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        headers: HTTPFields = [:],
        json: SandboxJSON? = nil,
        body: String? = nil,
        authority: String? = nil
    ) async throws -> HTTPResult {
        var headers = headers
        var buffer: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try json.encoded())
        } else if let body {
            buffer = ByteBuffer(string: body)
        }
        let request = TestClient.Request(path, method: method, authority: authority, headers: headers, body: buffer)
        let response = try await TestClient.withClient(host: "127.0.0.1", port: sandbox.port) { client in
            try await client.execute(request)
        }
        let data = response.body.map { Data(buffer: $0) } ?? Data()
        return HTTPResult(status: Int(response.status.code), headers: response.headers, body: data)
    }

    /// `POST /oauth2/access_token` with the given form.
    func tokenRequest(_ form: String) async throws -> HTTPResult {
        try await send(.post, "/oauth2/access_token", headers: [.contentType: "application/x-www-form-urlencoded"], body: form)
    }

    /// A fresh JWT for the configured client.
    func token() async throws -> String {
        let result = try await tokenRequest(
            "grant_type=client_credentials&client_id=registrar-worker&client_secret=sandbox-secret&token_type=jwt"
        )
        guard result.status == 200, let token = result.json?["access_token"]?.stringValue else {
            throw HarnessError("token request failed: \(result.status) \(result.text)")
        }
        return token
    }

    /// An authenticated LMS/Studio call.
    func api(_ method: HTTPRequest.Method, _ path: String, token: String, json: SandboxJSON? = nil) async throws -> HTTPResult {
        try await send(method, path, headers: [.authorization: "JWT \(token)"], json: json)
    }

    func enroll(_ token: String, _ body: SandboxJSON) async throws -> HTTPResult {
        try await api(.post, "/api/enrollment/v1/enrollment", token: token, json: body)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Percent-encoding for query values (`+` must become %2B, as for a real LMS).
func queryEncode(_ text: String) -> String {
    let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
}
