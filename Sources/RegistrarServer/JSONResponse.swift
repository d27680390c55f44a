import Foundation
import Hummingbird
import RegistrarCore

/// Every answer is JSON: `{"status": …}` on success, `{"error": "<code>", "message": "<sentence>"}` otherwise.
public enum JSONResponse {
    public static func make<T: Encodable>(_ status: HTTPResponse.Status, _ value: T) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"internal","message":"could not encode the answer"}"#.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The same bytes `make` gives for a JSON value, without JSONEncoder: intake answers thousands a second.
    public static func make(_ status: HTTPResponse.Status, json: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.jsonBytes)))
    }

    public struct ErrorBody: Encodable, Sendable {
        public var error: String
        public var message: String
    }

    public static func error(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        make(status, ErrorBody(error: code, message: message))
    }

    /// 503 `database_unavailable`: the store could not be read or written; nothing was changed.
    static func databaseUnavailable(_ error: any Error) -> Response {
        JSONResponse.error(.serviceUnavailable, code: "database_unavailable", message: "\(error)")
    }
}
