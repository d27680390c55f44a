import Yams

/// Walks one YAML mapping, key by key, so that every problem names its full key path (and line), environment
/// overrides apply to every scalar, and a misspelt key is reported instead of silently ignored.
final class ConfigReader {
    let file: String
    let path: [String]
    private let mapping: Node.Mapping?
    private let environment: [String: String]
    private let readFile: (String) throws -> String
    private var consumed: Set<String> = []
    /// Shared by a reader and its children: the key paths of secrets read from the file's own text.
    let inlineSecrets: InlineSecrets

    final class InlineSecrets {
        var paths: [String] = []
    }

    init(file: String, path: [String], mapping: Node.Mapping?, environment: [String: String],
         readFile: @escaping (String) throws -> String, inlineSecrets: InlineSecrets = InlineSecrets()) {
        self.file = file
        self.path = path
        self.mapping = mapping
        self.environment = environment
        self.readFile = readFile
        self.inlineSecrets = inlineSecrets
    }

    func keyPath(_ key: String) -> String { (path + [key]).joined(separator: ".") }

    /// `REGISTRAR_` + the key path upper-cased with `.` (and anything else not alphanumeric) → `_`.
    func environmentName(_ key: String) -> String {
        let raw = (path + [key]).joined(separator: "_").uppercased()
        return "REGISTRAR_" + String(raw.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    func error(_ key: String, _ problem: String) -> ConfigError {
        var where_ = ""
        if let line = lookup(key)?.mark?.line { where_ = " (line \(line))" }
        return ConfigError(file: file, key: keyPath(key), problem: problem + where_)
    }

    private func node(_ key: String) -> Node? {
        consumed.insert(key)
        return lookup(key)
    }

    /// Matches keys by their text: Yams's own subscript resolves the key's type, so a quoted `"0000001"`
    /// would not be found.
    private func lookup(_ key: String) -> Node? {
        mapping?.first { $0.key.scalar?.string == key }?.value
    }

    /// The raw text of a scalar: the environment first, then the file. `nil` when neither sets it.
    func scalar(_ key: String) throws -> String? {
        if let value = environment[environmentName(key)] { consumed.insert(key); return value }
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar else { throw error(key, "expected a single value, found a \(kind(of: node))") }
        // An explicit `~`/`null` means "use the default", as YAML readers expect.
        if scalar.style == .plain && ["~", "null", "Null", "NULL", ""].contains(scalar.string) {
            return nil
        }
        return scalar.string
    }

    func string(_ key: String, default value: String) throws -> String {
        try scalar(key) ?? value
    }

    func optionalString(_ key: String) throws -> String? {
        try scalar(key)
    }

    func int(_ key: String, default value: Int, range: ClosedRange<Int>? = nil) throws -> Int {
        guard let text = try scalar(key) else { return value }
        guard let parsed = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error(key, "expected a whole number, got \"\(text)\"")
        }
        if let range, !range.contains(parsed) {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(parsed)")
        }
        return parsed
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let text = try scalar(key) else { return nil }
        guard let parsed = Int(text) else { throw error(key, "expected a whole number, got \"\(text)\"") }
        return parsed
    }

    func double(_ key: String, default value: Double, minimum: Double? = nil) throws -> Double {
        guard let text = try scalar(key) else { return value }
        guard let parsed = Double(text), parsed.isFinite else { throw error(key, "expected a number, got \"\(text)\"") }
        if let minimum, parsed < minimum { throw error(key, "must be at least \(minimum), got \(text)") }
        return parsed
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let text = try scalar(key) else { return value }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error(key, "expected true or false, got \"\(text)\"")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws -> T where T.RawValue == String {
        guard let text = try scalar(key) else { return value }
        guard let parsed = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(key, "must be one of \(allowed), got \"\(text)\"")
        }
        return parsed
    }

    /// A URL that libcurl will be given: must be absolute http(s), and is kept without a trailing slash so that
    /// paths can be appended.
    func url(_ key: String, default value: String?) throws -> String? {
        guard let text = try scalar(key) ?? value else { return nil }
        guard text.hasPrefix("http://") || text.hasPrefix("https://"), text.count > 8 else {
            throw error(key, "expected an http:// or https:// URL, got \"\(text)\"")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// A secret from the environment, a `…_FILE` variable, the file's key, or the file's `…_file` key, in that
    /// order. Files are read whole with one trailing newline dropped, as secret managers write them.
    func secret(_ key: String) throws -> Secret? {
        // The environment wins over the file; the file's own key or `_file` key is then not "unknown".
        if let value = environment[environmentName(key)] {
            consumed.formUnion([key, key + "_file"])
            return Secret(value)
        }
        if let path = environment[environmentName(key + "_file")] {
            consumed.formUnion([key, key + "_file"])
            return Secret(try readSecretFile(path, key: key + "_file"))
        }
        if let value = try scalar(key) {
            inlineSecrets.paths.append(keyPath(key))
            return Secret(value)
        }
        if let path = try scalar(key + "_file") { return Secret(try readSecretFile(path, key: key + "_file")) }
        return nil
    }

    private func readSecretFile(_ filePath: String, key: String) throws -> String {
        let text: String
        do { text = try readFile(filePath) } catch {
            throw self.error(key, "cannot read secret file \(filePath): \(error.localizedDescription)")
        }
        var value = text
        if value.hasSuffix("\r\n") { value.removeLast(2) } else if value.hasSuffix("\n") { value.removeLast() }
        if value.isEmpty { throw self.error(key, "secret file \(filePath) is empty") }
        return value
    }

    func stringList(_ key: String, default value: [String]) throws -> [String] {
        if let text = environment[environmentName(key)] {
            consumed.insert(key)
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard let node = node(key) else { return value }
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else { throw error(key, "expected a list, found a \(kind(of: node))") }
        return try sequence.map { item in
            guard let scalar = item.scalar else { throw error(key, "expected a list of values, found a \(kind(of: item)) in it") }
            return scalar.string
        }
    }

    func child(_ key: String) throws -> ConfigReader {
        let found = node(key)
        if let found, found.mapping == nil, !(found.scalar.map { $0.string.isEmpty || $0.string == "~" } ?? false) {
            throw error(key, "expected a mapping of keys, found a \(kind(of: found))")
        }
        return ConfigReader(file: file, path: path + [key], mapping: found?.mapping, environment: environment,
                            readFile: readFile, inlineSecrets: inlineSecrets)
    }

    /// The keys of a mapping whose keys are names chosen by the operator (store ids, profile ids).
    func childKeys() -> [String] {
        mapping?.keys.compactMap { $0.scalar?.string } ?? []
    }

    func sequenceOfMappings(_ key: String) throws -> [ConfigReader] {
        guard let found = node(key) else { return [] }
        if let scalar = found.scalar, scalar.string.isEmpty || scalar.string == "~" { return [] }
        guard let sequence = found.sequence else { throw error(key, "expected a list, found a \(kind(of: found))") }
        return try sequence.enumerated().map { index, item in
            guard let itemMapping = item.mapping else {
                throw error(key, "item \(index + 1) should be a mapping of keys, found a \(kind(of: item))")
            }
            return ConfigReader(file: file, path: path + ["\(key)[\(index)]"], mapping: itemMapping,
                                environment: [:], readFile: readFile, inlineSecrets: inlineSecrets)
        }
    }

    /// Rejects keys that nothing read: a misspelt key would otherwise be ignored and its default used in silence.
    func finish() throws {
        guard let mapping else { return }
        for keyNode in mapping.keys {
            guard let key = keyNode.scalar?.string else { continue }
            if !consumed.contains(key) {
                var where_ = ""
                if let line = keyNode.mark?.line { where_ = " (line \(line))" }
                throw ConfigError(file: file, key: keyPath(key), problem: "unknown key" + where_)
            }
        }
    }

    private func kind(of node: Node) -> String {
        switch node {
        case .scalar: "single value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }
}
