import Foundation

/// The human sentence in an error answer, for the attempt row and `jobs show`: Open edX puts it in `message`,
/// `detail`, `error_description`/`error`, `developer_message`, or a field's list of errors
/// (`{"run": ["Course run … already exists"]}`); WooCommerce uses `message` and `code`.
public enum ServerMessage {
    public static func extract(status: Int, body: String) -> String {
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return "HTTP \(status) with an empty body" }
        if let json = JSONValue.parse(trimmed), let found = message(in: json) {
            return "HTTP \(status): \(limit(found))"
        }
        // A JSON string body ("No course 'x' found for enrollment") or plain text.
        if let json = JSONValue.parse(trimmed), case .string(let text) = json { return "HTTP \(status): \(limit(text))" }
        return "HTTP \(status): \(limit(trimmed))"
    }

    private static func message(in json: JSONValue) -> String? {
        switch json {
        case .string(let text):
            return text
        case .object(let object):
            for key in ["message", "detail", "error_description", "developer_message", "user_message", "error"] {
                if let value = object[key], let text = message(in: value) { return text }
            }
            for key in object.keys.sorted() {
                if case .array(let items) = object[key]!, let first = items.first, let text = message(in: first) {
                    return "\(key): \(text)"
                }
            }
            return nil
        case .array(let items):
            return items.first.flatMap(message(in:))
        default:
            return nil
        }
    }

    private static func limit(_ text: String) -> String {
        text.count <= 500 ? text : String(text.prefix(499)) + "…"
    }
}
