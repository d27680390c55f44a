/// A job payload that knows its JSON, so intake can write a job's text without `JSONEncoder` (which costs more
/// than everything else in deciding a delivery). The text is byte for byte what `JSONText.encode` writes for
/// the same value — a test holds every payload type to it — so equal facts still give equal text.
public protocol JobPayload: Encodable {
    /// The value as its Codable conformance encodes it: the same keys, and absent optionals left out.
    var json: JSONValue { get }
    /// `json` as stored text.
    var jsonText: String { get }
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

    // Written straight from the fields: intake writes one per paid line, and the dictionary `json` builds cost
    // more than the writing.
    public var jsonText: String {
        JSONWriter.object(sortedMembers: ["course_id": courseID, "email": email, "mode": mode,
                                          "order_reference": orderReference])
    }
}

extension UnenrollPayload: JobPayload {
    public var json: JSONValue {
        .fields(["email": .string(email), "course_id": .string(courseID), "order_reference": orderReference.map(JSONValue.string)])
    }

    public var jsonText: String {
        JSONWriter.object(sortedMembers: ["course_id": courseID, "email": email, "order_reference": orderReference])
    }
}

extension JSONWriter {
    /// The text of an object of string members, absent ones left out, whose keys come already in sorted order.
    static func object(sortedMembers members: KeyValuePairs<StaticString, String?>) -> String {
        var writer = JSONWriter(capacity: 160)
        writer.bytes.append(UInt8(ascii: "{"))
        var previous: StaticString?
        for (key, value) in members {
            assert(previous.map { precedes($0.description, key.description) } ?? true, "members out of order at \(key)")
            previous = key
            guard let value else { continue }
            if writer.bytes.count > 1 { writer.bytes.append(UInt8(ascii: ",")) }
            writer.bytes.append(UInt8(ascii: "\""))
            writer.bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            writer.bytes.append(UInt8(ascii: "\""))
            writer.bytes.append(UInt8(ascii: ":"))
            writer.write(string: value)
        }
        writer.bytes.append(UInt8(ascii: "}"))
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension WooRefundJobPayload: JobPayload {
    public var json: JSONValue {
        .fields(["store": .string(store), "order_id": .number(Double(orderID)), "order_number": .string(orderNumber),
                 "refund_id": refundID.map { .number(Double($0)) }, "email": email.map(JSONValue.string),
                 "lines": .array(lines.map { line in
                     .fields(["line_id": .number(Double(line.lineID)), "course_id": .string(line.courseID),
                              "mode": line.mode.map(JSONValue.string), "quantity": .number(Double(line.quantity)),
                              "codes": line.codes ? .bool(true) : nil])
                 })])
    }
}
