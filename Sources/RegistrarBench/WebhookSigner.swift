import Crypto
import CurlHTTP
import Foundation

/// Real-shaped WooCommerce `order.updated` deliveries, each for a new paid order, signed as WooCommerce
/// signs them: base64 of HMAC-SHA256 over the exact body bytes with the webhook's secret.
///
/// The body is the `order-727-processing.json` fixture (≈3.4 KB, two course lines and a T-shirt) with the
/// order id, order number and billing email made unique, so every delivery creates two enroll jobs instead
/// of being deduplicated into the first one.
struct WooOrderWebhooks: Sendable {
    static let secret = "bench-webhook-secret"
    static let fixture = "woocommerce/order-727-processing.json"

    private enum Slot: Sendable { case id, email }

    /// The fixture cut at the places that vary: literal bytes, then what goes after them.
    private let pieces: [(literal: [UInt8], slot: Slot?)]
    /// Kept as bytes: SymmetricKey is not Sendable, and making one per signature costs next to nothing.
    private let secret: [UInt8]

    init(fixturesDirectory: String, secret: String = Self.secret) throws {
        let path = fixturesDirectory + "/" + Self.fixture
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError("cannot read \(path) (run from the repository root or pass --fixtures)")
        }
        var rest = String(decoding: data, as: UTF8.self)[...]
        var cuts: [(before: String, slot: Slot, after: String)] = [
            (#"{"id":"#, .id, ","), (#""number":""#, .id, #"""#), (#""email":""#, .email, #"""#),
        ]
        var pieces: [(literal: [UInt8], slot: Slot?)] = []
        while true {
            // The next place to cut, wherever it is in the file.
            // Each cut is made once, at its first occurrence: the top-level id comes first in the file, so the
            // nested "id" keys (line items, meta) stay as they are.
            let next = cuts.indices.compactMap { index -> (Int, Range<Substring.Index>)? in
                rest.range(of: cuts[index].before).map { (index, $0) }
            }.min { $0.1.lowerBound < $1.1.lowerBound }
            guard let (index, range) = next else { break }
            let (_, slot, after) = cuts.remove(at: index)
            guard let end = rest[range.upperBound...].range(of: after) else { break }
            pieces.append((Array(rest[..<range.upperBound].utf8), slot))
            rest = rest[end.lowerBound...]
        }
        pieces.append((Array(rest.utf8), nil))
        guard pieces.filter({ $0.slot == .id }).count == 2, pieces.filter({ $0.slot == .email }).count == 1 else {
            throw BenchError("\(path) no longer has the shape the benchmark rewrites (id, number, billing email)")
        }
        self.pieces = pieces
        self.secret = Array(secret.utf8)
    }

    func body(orderID: Int) -> [UInt8] {
        let id = Array(String(orderID).utf8)
        let email = Array("learner\(orderID)@bench.example.com".utf8)
        var body: [UInt8] = []
        body.reserveCapacity(pieces.reduce(0) { $0 + $1.literal.count } + 2 * id.count + email.count)
        for piece in pieces {
            body += piece.literal
            switch piece.slot {
            case .id?: body += id
            case .email?: body += email
            case nil: break
            }
        }
        return body
    }

    func signature(_ body: [UInt8]) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))).base64EncodedString()
    }

    /// The request WooCommerce's webhook sender makes for `orderID`.
    func request(url: String, orderID: Int) -> HTTPRequest {
        let body = body(orderID: orderID)
        return HTTPRequest(method: "POST", url: url, headers: headers(orderID: orderID, body: body), body: body)
    }

    /// The headers WooCommerce's webhook sender adds, with `body` signed; one list for both load clients, so
    /// that a header added here reaches the server whichever client posts.
    func headers(orderID: Int, body: [UInt8]) -> HTTPHeaders {
        [
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
            "X-WC-Webhook-Source": "https://shop.example.com/",
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": "updated",
            "X-WC-Webhook-Signature": signature(body),
            "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": String(orderID),
        ]
    }
}

/// The repository's `fixtures/` folder: given, or found above the working directory or the executable.
func locateFixtures(_ explicit: String?) throws -> String {
    if let explicit { return explicit }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    for start in [FileManager.default.currentDirectoryPath, (exe as NSString).deletingLastPathComponent] {
        var dir = URL(fileURLWithPath: start)
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("fixtures")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(WooOrderWebhooks.fixture).path) {
                return candidate.path
            }
            dir.deleteLastPathComponent()
        }
    }
    throw BenchError("fixtures/ not found above \(FileManager.default.currentDirectoryPath); pass --fixtures DIR")
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
