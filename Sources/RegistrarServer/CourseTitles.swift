import Foundation
import Synchronization

/// Course runs' display names for the learner's pages, read from Open edX and remembered: a learner reads
/// "Demonstration Course", not a course key. A page never waits long for it: past `wait` it shows the key,
/// and the answer, when it comes, serves the next page.
public actor CourseTitles {
    /// The run's title; nil when it has none or could not be read.
    public typealias Lookup = @Sendable (String) async -> String?

    private let lookup: Lookup
    private let ttl: TimeInterval
    private let failureTTL: TimeInterval
    private let wait: Duration
    private var known: [String: (title: String?, until: Date)] = [:]
    private var pending: [String: Task<String?, Never>] = [:]

    public init(ttl: TimeInterval = 3600, failureTTL: TimeInterval = 300, wait: Duration = .milliseconds(1500),
                lookup: @escaping Lookup) {
        self.lookup = lookup
        self.ttl = ttl
        self.failureTTL = failureTTL
        self.wait = wait
    }

    public func title(of courseID: String) async -> String? {
        if let entry = known[courseID], entry.until > Date() { return entry.title }
        let task = pending[courseID] ?? start(courseID)
        let wait = self.wait
        // Not a task group: it would wait for the lookup it lost to (awaiting a task's value ignores cancellation).
        return await withCheckedContinuation { continuation in
            let answered = Mutex(false)
            let answer: @Sendable (String?) -> Void = { title in
                if answered.withLock({ done in defer { done = true }; return !done }) { continuation.resume(returning: title) }
            }
            Task { answer(await task.value) }
            Task {
                try? await Task.sleep(for: wait)
                answer(nil)
            }
        }
    }

    /// One lookup per course at a time, whoever asks meanwhile.
    private func start(_ courseID: String) -> Task<String?, Never> {
        let lookup = self.lookup
        let task = Task { [weak self] () -> String? in
            let title = await lookup(courseID)
            await self?.remember(courseID, title)
            return title
        }
        pending[courseID] = task
        return task
    }

    private func remember(_ courseID: String, _ title: String?) {
        pending[courseID] = nil
        known[courseID] = (title, Date().addingTimeInterval(title == nil ? failureTTL : ttl))
    }
}
