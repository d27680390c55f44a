/// Which parts of a JSON document to build into `JSONValue`s. The reader still reads and checks every byte of the
/// document, so what is valid and what error an invalid document gets do not depend on the selection; only the
/// values nobody will look at are never built (their strings, dictionaries and arrays are what reading costs).
///
/// A WooCommerce order is ~4 KB and ~150 values, of which intake uses about 20.
public final class JSONSelection: Sendable {
    enum Shape: Sendable {
        /// The whole value.
        case everything
        /// An object's named members only, each with its own selection; any other value is kept whole.
        case members([Member])
        /// Every element of an array, or every member of an object, with one selection.
        case elements(JSONSelection)
    }

    struct Member: Sendable {
        let key: String
        let utf8: [UInt8]
        let selection: JSONSelection
        /// An ASCII key equals a document's ASCII key exactly when their bytes are equal; a non-ASCII one may
        /// equal a differently spelled key (Swift compares strings by canonical equivalence), so it is compared
        /// as a `String`.
        let isASCII: Bool

        init(key: String, selection: JSONSelection) {
            self.key = key
            self.utf8 = Array(key.utf8)
            self.selection = selection
            self.isASCII = utf8.allSatisfy { $0 < 0x80 }
        }

        func matches(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
            if isASCII { return raw.elementsEqual(utf8) }
            return String(decoding: raw, as: UTF8.self) == key
        }
    }

    let shape: Shape

    private init(_ shape: Shape) {
        self.shape = shape
    }

    public static let everything = JSONSelection(.everything)

    /// For an object, only the named members, each read with its selection; members not named are checked and
    /// dropped. Any other value (an array where an object was expected, say) is kept whole, so a reader that
    /// complains about it can still describe it. A key named twice keeps its last selection.
    public static func members(_ members: KeyValuePairs<String, JSONSelection>) -> JSONSelection {
        self.members(members.map { ($0.key, $0.value) })
    }

    /// `members` for a list built at run time.
    public static func members(_ members: [(String, JSONSelection)]) -> JSONSelection {
        var list: [Member] = []
        for (key, selection) in members {
            list.removeAll { $0.key == key }
            list.append(Member(key: key, selection: selection))
        }
        return JSONSelection(.members(list))
    }

    /// For an array, every element read with `selection`; for an object, every member read with it (PHP writes a
    /// list with holes as an object keyed by index, so a list's selection must work on both). Scalars are kept.
    public static func elements(_ selection: JSONSelection) -> JSONSelection {
        JSONSelection(.elements(selection))
    }

    /// What of each element to build when this selection meets an array.
    var elementSelection: JSONSelection {
        switch shape {
        case .everything, .members: .everything
        case .elements(let selection): selection
        }
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
