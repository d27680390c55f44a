import Foundation

/// RFC 4180 CSV: fields separated by commas, records ended by CRLF, a field quoted when it holds a comma, a
/// quote, CR or LF (or starts or ends with a space, which some readers trim), quotes inside doubled. UTF-8 as is.
public struct CSVWriter: Sendable {
    public private(set) var text = ""

    public init(header: [String]) {
        add(header)
    }

    public mutating func add(_ fields: [String]) {
        text += fields.map(Self.field).joined(separator: ",") + "\r\n"
    }

    public static func field(_ value: String) -> String {
        let needsQuotes = value.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
            || value.hasPrefix(" ") || value.hasSuffix(" ")
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
