/// A job payload that knows its JSON, so intake can write a job's text without `JSONEncoder` (which costs more
/// than everything else in deciding a delivery). The text is byte for byte what `JSONText.encode` writes for
/// the same value — a test holds every payload type to it — so equal facts still give equal text.
public protocol JobPayload: Encodable {
    /// The value as its Codable conformance encodes it: the same keys, and absent optionals left out.
    var json: JSONValue { get }
}

extension JobPayload {
    public var jsonText: String {
        let value = json
        // JSONValue holds numbers as Double and writes integers from 1e15 up in exponent form, where JSONEncoder
        // writes digits: such a payload (never a real one) takes the encoder.
        if value.containsLargeNumber { return (try? JSONText.encode(self)) ?? value.jsonText }
        return value.jsonText
    }
}

extension JSONValue {
    /// An object of the fields that are present: what synthesized `encodeIfPresent` writes for optionals.
    static func fields(_ pairs: KeyValuePairs<String, JSONValue?>) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for (key, value) in pairs { if let value { object[key] = value } }
        return .object(object)
    }

    fileprivate var containsLargeNumber: Bool {
        switch self {
        case .number(let number): abs(number) >= 1e15
        case .array(let items): items.contains { $0.containsLargeNumber }
        case .object(let fields): fields.values.contains { $0.containsLargeNumber }
        case .null, .bool, .string: false
        }
    }
}

extension EnrollPayload: JobPayload {
    public var json: JSONValue {
        .fields(["email": .string(email), "course_id": .string(courseID), "mode": mode.map(JSONValue.string),
                 "order_reference": orderReference.map(JSONValue.string)])
    }
}

extension UnenrollPayload: JobPayload {
    public var json: JSONValue {
        .fields(["email": .string(email), "course_id": .string(courseID), "order_reference": orderReference.map(JSONValue.string)])
    }
}

extension WooRefundJobPayload: JobPayload {
    public var json: JSONValue {
        .fields(["store": .string(store), "order_id": .number(Double(orderID)), "order_number": .string(orderNumber),
                 "refund_id": refundID.map { .number(Double($0)) }, "email": email.map(JSONValue.string),
                 "lines": .array(lines.map { line in
                     .fields(["line_id": .number(Double(line.lineID)), "course_id": .string(line.courseID),
                              "mode": line.mode.map(JSONValue.string), "quantity": .number(Double(line.quantity))])
                 })])
    }
}
