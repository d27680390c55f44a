/// RFC 4180 CSV, read strictly: records end with CRLF (a bare LF is accepted only at the very end of a line,
/// as editors write them), a quoted field may hold commas, quotes doubled and line breaks, and nothing may
/// follow a closing quote but a comma or the record's end. A malformed file is refused with the line and
/// column (1-based, counted in characters) of the first problem, so nothing is taken from half a file.
public enum CSVReader {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var message: String

        public init(line: Int, column: Int, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }

        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// A record with the line it starts on.
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    public static func read(_ text: String) -> Result<[Record], Problem> {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var column = 0
        var recordLine = 1
        var quoted = false
        var closedQuote = false
        var atFieldStart = true
        var iterator = Array(text.unicodeScalars)
        if iterator.first == "\u{FEFF}" { iterator.removeFirst() }
        var index = 0
        func endRecord() {
            fields.append(field)
            records.append(Record(line: recordLine, fields: fields))
            fields = []
            field = ""
            atFieldStart = true
            closedQuote = false
        }
        while index < iterator.count {
            let scalar = iterator[index]
            column += 1
            if quoted {
                if scalar == "\"" {
                    if index + 1 < iterator.count, iterator[index + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        index += 2
                        column += 1
                        continue
                    }
                    quoted = false
                    closedQuote = true
                } else {
                    field.unicodeScalars.append(scalar)
                    if scalar == "\n" {
                        line += 1
                        column = 0
                    }
                }
                index += 1
                continue
            }
            switch scalar {
            case "\"":
                guard atFieldStart else {
                    return .failure(Problem(line: line, column: column, message: closedQuote ? "a quote after a quoted field's closing quote"
                                                                                                : "a quote inside an unquoted field"))
                }
                quoted = true
                atFieldStart = false
            case ",":
                fields.append(field)
                field = ""
                atFieldStart = true
                closedQuote = false
            case "\r":
                guard index + 1 < iterator.count, iterator[index + 1] == "\n" else {
                    return .failure(Problem(line: line, column: column, message: "a carriage return not followed by a line feed"))
                }
                endRecord()
                index += 2
                line += 1
                column = 0
                recordLine = line
                continue
            case "\n":
                endRecord()
                line += 1
                column = 0
                recordLine = line
            default:
                if closedQuote {
                    return .failure(Problem(line: line, column: column, message: "text after a quoted field's closing quote"))
                }
                field.unicodeScalars.append(scalar)
                atFieldStart = false
            }
            index += 1
        }
        if quoted { return .failure(Problem(line: recordLine, column: 1, message: "a quoted field is never closed")) }
        // The last record need not end with a line break; an empty last line is no record.
        if !field.isEmpty || !fields.isEmpty || closedQuote { endRecord() }
        return .success(records)
    }
}
