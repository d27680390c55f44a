// TEMPORARY probe, removed before hand-off.
import ArgumentParser
import Foundation
import RegistrarCore

struct ParseProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "parse-probe")
    func run() async throws {
        let webhooks = try WooOrderWebhooks(fixturesDirectory: try locateFixtures(nil))
        let body = webhooks.body(orderID: 123456)
        let n = 3000
        func time(_ name: String, _ work: () throws -> Void) rethrows {
            for _ in 0..<100 { try work() }
            let start = ContinuousClock.now
            for _ in 0..<n { try work() }
            print(name, String(format: "%.1f µs", (ContinuousClock.now - start).inMilliseconds * 1000 / Double(n)))
        }
        try time("WooPayload.parse (JSONDecoder → JSONValue)") { _ = try WooPayload.parse(topic: "order.updated", body: body) }
        try time("JSONDecoder → JSONValue only") { _ = try JSONDecoder().decode(JSONValue.self, from: Data(body)) }
        try time("JSONSerialization → JSONValue") { _ = convert(try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) }
        time("byte-level parser → JSONValue") { var p = ProbeParser(body); _ = p.value() }
        var p = ProbeParser(body)
        print("same result:", p.value() == (try JSONDecoder().decode(JSONValue.self, from: Data(body))))
        let sig = webhooks.signature(body)
        time("HMAC verify") { _ = WooWebhookSignature.isValid(body: body, signature: sig, secret: Secret(WooOrderWebhooks.secret)) }
        try time("JSONText.encode(EnrollPayload)") { _ = try JSONText.encode(EnrollPayload(email: "a@b.c", courseID: "course-v1:a+b+c", mode: "verified", orderReference: "1")) }
    }
    func convert(_ any: Any) -> JSONValue {
        switch any {
        case let v as String: return .string(v)
        case let v as NSNumber:

            return .number(v.doubleValue)
        case let v as [Any]: return .array(v.map(convert))
        case let v as [String: Any]: return .object(v.mapValues(convert))
        default: return .null
        }
    }
}

struct ProbeParser {
    let b: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { self.b = b }
    mutating func ws() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
    mutating func value() -> JSONValue {
        ws()
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1; var o: [String: JSONValue] = [:]; ws()
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true { ws(); let k = string(); ws(); i += 1; o[k] = value(); ws(); if b[i] == UInt8(ascii: ",") { i += 1 } else { i += 1; return .object(o) } }
        case UInt8(ascii: "["):
            i += 1; var a: [JSONValue] = []; ws()
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true { a.append(value()); ws(); if b[i] == UInt8(ascii: ",") { i += 1 } else { i += 1; return .array(a) } }
        case UInt8(ascii: "\""): return .string(string())
        case UInt8(ascii: "t"): i += 4; return .bool(true)
        case UInt8(ascii: "f"): i += 5; return .bool(false)
        case UInt8(ascii: "n"): i += 4; return .null
        default:
            let s = i
            while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") || b[i] == UInt8(ascii: "+") { i += 1 }
            return .number(Double(String(decoding: b[s..<i], as: UTF8.self)) ?? 0)
        }
    }
    mutating func string() -> String {
        i += 1
        let s = i
        var escaped = false
        while b[i] != UInt8(ascii: "\"") { if b[i] == UInt8(ascii: "\\") { escaped = true; i += 2 } else { i += 1 } }
        let raw = b[s..<i]; i += 1
        if !escaped { return String(decoding: raw, as: UTF8.self) }
        var out = String(); out.reserveCapacity(raw.count)
        var j = raw.startIndex
        while j < raw.endIndex {
            if raw[j] == UInt8(ascii: "\\") {
                let c = raw[j+1]
                if c == UInt8(ascii: "u") { let hex = String(decoding: raw[(j+2)..<(j+6)], as: UTF8.self); out.unicodeScalars.append(Unicode.Scalar(UInt32(hex, radix: 16)!) ?? "?"); j += 6 }
                else { out.append(c == UInt8(ascii: "n") ? "\n" : Character(Unicode.Scalar(c))); j += 2 }
            } else { let k = j; while j < raw.endIndex, raw[j] != UInt8(ascii: "\\") { j += 1 }; out += String(decoding: raw[k..<j], as: UTF8.self) }
        }
        return out
    }
}
