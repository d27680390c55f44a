/// Failures of the store itself, as opposed to refusals of an operation (`OrderError`, `TokenError`).
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The database could not be opened or migrated.
    case cannotOpen(String)
    /// The database holds something this version cannot read.
    case corrupt(String)

    public var description: String {
        switch self {
        case .cannotOpen(let message): message
        case .corrupt(let message): "database holds something unexpected: \(message)"
        }
    }
}
