import Foundation

/// What every scenario prints and writes: the machine, the settings, the figures, and each target with
/// PASS or MISS. The same document goes to the terminal (as tables) and to the JSON file.
struct Report: Encodable {
    struct Setting: Encodable {
        var name: String
        var value: String
    }

    struct Table: Encodable {
        var title: String
        var columns: [String]
        var rows: [[String]]
    }

    struct Target: Encodable {
        var name: String
        var target: String
        var measured: String
        var pass: Bool
    }

    var scenario: String
    var startedAt: Date
    var wallSeconds: Double = 0
    var machine: Machine
    var settings: [Setting] = []
    var tables: [Table] = []
    var targets: [Target] = []
    var notes: [String] = []
    /// The scenario's raw figures, for scripts comparing runs.
    var data: (any Encodable)?

    init(scenario: String, machine: Machine = .current()) {
        self.scenario = scenario
        self.startedAt = Date()
        self.machine = machine
    }

    mutating func set(_ name: String, _ value: String) { settings.append(Setting(name: name, value: value)) }
    mutating func set(_ name: String, _ value: some CustomStringConvertible) { set(name, value.description) }

    mutating func table(_ title: String, columns: [String], rows: [[String]]) {
        tables.append(Table(title: title, columns: columns, rows: rows))
    }

    mutating func target(_ name: String, _ target: String, measured: String, pass: Bool) {
        targets.append(Target(name: name, target: target, measured: measured, pass: pass))
    }

    mutating func note(_ text: String) { notes.append(text) }

    enum CodingKeys: String, CodingKey {
        case scenario, startedAt = "started_at", wallSeconds = "wall_seconds", machine, settings, tables, targets, notes, data
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scenario, forKey: .scenario)
        try c.encode(ISO8601DateFormatter().string(from: startedAt), forKey: .startedAt)
        try c.encode((wallSeconds * 10).rounded() / 10, forKey: .wallSeconds)
        try c.encode(machine, forKey: .machine)
        try c.encode(settings, forKey: .settings)
        try c.encode(tables, forKey: .tables)
        try c.encode(targets, forKey: .targets)
        try c.encode(notes, forKey: .notes)
        if let data { try c.encode(data, forKey: .data) }
    }

    func render() -> String {
        var out = "\n== registrar-bench \(scenario) — \(ISO8601DateFormatter().string(from: startedAt)) ==\n"
        out += "machine:  \(machine.summary)\n"
        if !settings.isEmpty {
            out += "settings:\n"
            let width = settings.map(\.name.count).max() ?? 0
            for setting in settings {
                out += "  \(setting.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(setting.value)\n"
            }
        }
        for table in tables {
            out += "\n\(table.title)\n" + Self.grid(columns: table.columns, rows: table.rows)
        }
        if !targets.isEmpty {
            out += "\ntargets:\n"
            let nameWidth = targets.map(\.name.count).max() ?? 0
            let targetWidth = targets.map(\.target.count).max() ?? 0
            for target in targets {
                out += "  \(target.pass ? "PASS" : "MISS")  \(target.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  "
                out += "\(target.target.padding(toLength: targetWidth, withPad: " ", startingAt: 0))  measured \(target.measured)\n"
            }
        }
        if !notes.isEmpty {
            out += "\nnotes:\n" + notes.map { "  - \($0)\n" }.joined()
        }
        out += "\n(\(String(format: "%.1f", wallSeconds)) s)\n"
        return out
    }

    /// A Markdown-compatible table, so a run can be pasted into BENCHMARKS.md as it is.
    static func grid(columns: [String], rows: [[String]]) -> String {
        var widths = columns.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { index, cell in
                let width = widths[index]
                // Figures read best right-aligned; labels (first column) left-aligned.
                return index == 0 ? cell.padding(toLength: width, withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: max(0, width - cell.count)) + cell
            }.joined(separator: " | ") + " |\n"
        }
        var out = line(columns)
        out += "|" + widths.enumerated().map { index, width in
            index == 0 ? String(repeating: "-", count: width + 2) : String(repeating: "-", count: width + 1) + ":"
        }.joined(separator: "|") + "|\n"
        for row in rows { out += line(row + Array(repeating: "", count: max(0, columns.count - row.count))) }
        return out
    }

    /// Prints the report and writes the JSON file (creating its folder).
    func publish(jsonPath: String) throws {
        var report = self
        // A build that started mid-run makes the figures as suspect as one running at the start.
        let builds = Machine.otherBuildProcesses()
        if builds > 0 { report.note("\(builds) compiler processes were running when the scenario ended: figures under contention") }
        try report.write(jsonPath: jsonPath)
    }

    private func write(jsonPath: String) throws {
        print(render(), terminator: "")
        let url = URL(fileURLWithPath: jsonPath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: url)
        print("JSON: \(jsonPath)")
    }
}

/// Figures formatted the same way everywhere.
enum Format {
    static func ms(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    static func rate(_ value: Double) -> String {
        value >= 100 ? grouped(Int(value.rounded())) : String(format: "%.1f", value)
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, char) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { out.append(",") }
            out.append(char)
        }
        return (value < 0 ? "-" : "") + String(out.reversed())
    }

    static func mib(kiB: Int) -> String { String(format: "%.1f MiB", Double(kiB) / 1024) }

    /// A database's size: whole MiB are precise enough.
    static func mib(bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }

    static func percent(_ fraction: Double) -> String { String(format: "%.1f %%", fraction * 100) }
}
