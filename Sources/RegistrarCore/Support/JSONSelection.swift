/// Which parts of a JSON document to build into `JSONValue`s. The reader still reads and checks every byte of the
/// document, so what is valid and what error an invalid document gets do not depend on the selection; only the
/// values nobody will look at are never built (their strings, dictionaries and arrays are what reading costs).
///
/// A WooCommerce order is ~4 KB and ~150 values, of which intake uses about 20.
public final class JSONSelection: Sendable {
    enum Kind: Sendable {
        /// The whole value.
        case everything
        /// An object's named members only, each with its own selection; any other value is kept whole.
        case members
        /// Every element of an array, or every member of an object, with one selection.
        case elements
    }

    // Stored apart rather than as an enum's payloads: the reader asks per key, and taking a payload out of an
    // enum copies it (a retain per stored reference), which was most of what a selection cost.
    let kind: Kind
    /// For `.members`.
    let members: Members?
    /// For `.elements`.
    let element: JSONSelection?

    /// The named members, laid out for the one question asked of them per key in the document: is this key one
    /// of them? Most keys are not, and differ in length or first byte, so those two are compared first.
    final class Members: Sendable {
        let keys: [String]
        let selections: [JSONSelection]
        private let lengths: [Int]
        private let firstBytes: [UInt8]
        private let offsets: [Int]
        private let bytes: [UInt8]
        /// An ASCII key equals a document's ASCII key exactly when their bytes are equal; a non-ASCII one may
        /// equal a differently spelled key (Swift compares strings by canonical equivalence), so it is compared
        /// as a `String`.
        private let isASCII: [Bool]

        init(_ members: [(key: String, selection: JSONSelection)]) {
            keys = members.map(\.key)
            selections = members.map(\.selection)
            let utf8 = keys.map { Array($0.utf8) }
            lengths = utf8.map(\.count)
            firstBytes = utf8.map { $0.first ?? 0 }
            offsets = utf8.reduce(into: [0]) { $0.append($0.last! + $1.count) }
            bytes = utf8.flatMap { $0 }
            isASCII = utf8.map { $0.allSatisfy { $0 < 0x80 } }
        }

        /// The index of the member named by `raw`, a key's bytes as written (plain ASCII, no escapes).
        func index(ofPlainKey raw: UnsafeBufferPointer<UInt8>) -> Int? {
            let count = raw.count
            let first = count > 0 ? raw[0] : 0
            return bytes.withUnsafeBufferPointer { all -> Int? in
                for index in keys.indices {
                    if isASCII[index] {
                        guard lengths[index] == count, firstBytes[index] == first else { continue }
                        if count <= 1 { return index }
                        var offset = 1
                        let key = all.baseAddress! + offsets[index]
                        while offset < count, key[offset] == raw[offset] { offset += 1 }
                        if offset >= count { return index }
                    } else if String(decoding: raw, as: UTF8.self) == keys[index] {
                        return index
                    }
                }
                return nil
            }
        }

        func index(of key: String) -> Int? {
            keys.firstIndex(of: key)
        }
    }

    private init(kind: Kind, members: Members? = nil, element: JSONSelection? = nil) {
        self.kind = kind
        self.members = members
        self.element = element
    }

    public static let everything = JSONSelection(kind: .everything)

    /// For an object, only the named members, each read with its selection; members not named are checked and
    /// dropped. Any other value (an array where an object was expected, say) is kept whole, so a reader that
    /// complains about it can still describe it. A key named twice keeps its last selection.
    public static func members(_ members: KeyValuePairs<String, JSONSelection>) -> JSONSelection {
        self.members(members.map { ($0.key, $0.value) })
    }

    /// `members` for a list built at run time.
    public static func members(_ members: [(String, JSONSelection)]) -> JSONSelection {
        var list: [(key: String, selection: JSONSelection)] = []
        for (key, selection) in members {
            list.removeAll { $0.key == key }
            list.append((key, selection))
        }
        return JSONSelection(kind: .members, members: Members(list))
    }

    /// For an array, every element read with `selection`; for an object, every member read with it (PHP writes a
    /// list with holes as an object keyed by index, so a list's selection must work on both). Scalars are kept.
    public static func elements(_ selection: JSONSelection) -> JSONSelection {
        JSONSelection(kind: .elements, element: selection)
    }

    /// What of each element to build when this selection meets an array.
    var elementSelection: JSONSelection {
        kind == .elements ? element! : .everything
    }
}

extension JSONValue {
    /// Reads a JSON text exactly as `parse(bytes:)` does (with the last of duplicate keys winning), but builds only
    /// what `selection` names: the result is the full document's value with everything else left out.
    public static func parse(bytes: some Collection<UInt8>, selecting selection: JSONSelection) throws(JSONSyntaxError)
        -> JSONValue {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) in
                try JSONReader.read(buffer, duplicateKeys: .lastWins, selection: selection)
            }
        }
        if let contiguous { return try contiguous.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
            try JSONReader.read(buffer, duplicateKeys: .lastWins, selection: selection)
        }
    }
}
