import RegistrarCore
import RegistrarStore

/// Runs one attempt of a job of one kind. It must be idempotent: a crash after the effect and before the
/// outcome is recorded runs the attempt again.
public protocol JobHandler: Sendable {
    func handle(_ job: ClaimedJob) async -> HandlerOutcome
}

/// A handler written as a closure, for small kinds and tests.
public struct ClosureJobHandler: JobHandler {
    private let body: @Sendable (ClaimedJob) async -> HandlerOutcome
    public init(_ body: @escaping @Sendable (ClaimedJob) async -> HandlerOutcome) { self.body = body }
    public func handle(_ job: ClaimedJob) async -> HandlerOutcome { await body(job) }
}

/// Handlers by job kind.
public struct HandlerRegistry: Sendable {
    private var handlers: [JobKind: any JobHandler] = [:]

    public init() {}

    public mutating func register(_ kind: JobKind, _ handler: any JobHandler) {
        handlers[kind] = handler
    }

    public mutating func register(_ kind: JobKind, _ body: @escaping @Sendable (ClaimedJob) async -> HandlerOutcome) {
        handlers[kind] = ClosureJobHandler(body)
    }

    public func handler(for kind: JobKind) -> (any JobHandler)? { handlers[kind] }
    public var kinds: [JobKind] { handlers.keys.sorted { $0.rawValue < $1.rawValue } }
}
