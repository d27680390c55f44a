import Foundation
import RegistrarCore

// libFuzzer harness for the text formats under the verifiers: application/x-www-form-urlencoded (CyberSource
// callbacks, the WooCommerce ping), Money amounts and signed_date_time. Each is held to an independent,
// strict reading of its grammar; any difference traps.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)

    let decoded = FormEncoding.decode(text)
    let expected = strictFormDecode(text)
    require(decoded.map(flatten) == expected.map(flatten),
            "decode gave \(decoded.map { "\($0)" } ?? "nil"), a strict reading gives \(expected.map { "\($0)" } ?? "nil")")
    if let decoded {
        require(FormEncoding.decode(FormEncoding.encode(decoded)).map(flatten) == flatten(decoded), "encode∘decode changed \(decoded)")
    }

    let ping = WooPing.webhookID(body: bytes)
    let prefix = Array("webhook_id=".utf8)
    let digits = bytes.starts(with: prefix) ? Array(bytes.dropFirst(prefix.count)) : []
    require((ping != nil) == ((1...18).contains(digits.count) && digits.allSatisfy { (0x30...0x39).contains($0) }),
            "webhookID \(ping.map(String.init) ?? "nil")")

    for candidate in [text] + (decoded ?? []).flatMap({ [$0.0, $0.1] }) {
        let amount = Money.parse(candidate)
        require(amount.map(Money.format) == canonicalAmount(candidate),
                "Money.parse gave \(amount.map(Money.format) ?? "nil"), the grammar gives \(canonicalAmount(candidate) ?? "nil")")
        if let amount { require(Money.parse(Money.format(amount)) == amount, "format∘parse changed \(amount)") }
        if let date = SignedDateTime.parse(candidate) {
            require(SignedDateTime.format(date) == candidate, "signed_date_time \(candidate.debugDescription) is not canonical")
        }
    }
    return 0
}

private func flatten(_ fields: [(String, String)]) -> [String] { fields.flatMap { [$0.0, $0.1] } }

/// application/x-www-form-urlencoded read strictly, on bytes: "&"-separated, empty segments skipped, the first
/// "=" splits, "+" is a space, "%" must be followed by exactly two hex digits, and the result must be UTF-8.
private func strictFormDecode(_ text: String) -> [(String, String)]? {
    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    func unescape(_ part: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        var index = part.startIndex
        while index < part.endIndex {
            let byte = part[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < part.endIndex, let high = hexValue(part[index + 1]), let low = hexValue(part[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
    var fields: [(String, String)] = []
    for segment in Array(text.utf8).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
        let equals = segment.firstIndex(of: UInt8(ascii: "="))
        guard let name = unescape(segment[..<(equals ?? segment.endIndex)]),
              let value = equals.map({ unescape(segment[segment.index(after: $0)...]) }) ?? "" else { return nil }
        fields.append((name, value))
    }
    return fields
}

/// `[-]digits[.digits]`, ASCII only, decimals past the second all zeros, at most 15 significant integer digits;
/// rendered as Money.format renders the value, or nil.
private func canonicalAmount(_ text: String) -> String? {
    var bytes = Array(text.utf8)[...]
    let negative = bytes.first == UInt8(ascii: "-")
    if negative { bytes = bytes.dropFirst() }
    let isDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) }
    let dot = bytes.firstIndex(of: UInt8(ascii: "."))
    let integer = bytes[..<(dot ?? bytes.endIndex)]
    let fraction = dot.map { bytes[($0 + 1)...] }
    guard !integer.isEmpty, integer.allSatisfy(isDigit) else { return nil }
    if let fraction {
        guard !fraction.isEmpty, fraction.allSatisfy(isDigit), fraction.dropFirst(2).allSatisfy({ $0 == 0x30 }) else { return nil }
    }
    let significant = String(decoding: integer.drop { $0 == 0x30 }, as: UTF8.self)
    guard significant.count <= 15 else { return nil }
    let cents = String(decoding: Array(fraction ?? []).prefix(2), as: UTF8.self)
    let twoDecimals = cents + String(repeating: "0", count: 2 - cents.count)
    let zero = significant.isEmpty && twoDecimals == "00"
    return (negative && !zero ? "-" : "") + (significant.isEmpty ? "0" : significant) + "." + twoDecimals
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}
