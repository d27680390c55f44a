import CCurl
import Foundation
import Synchronization

/// A request handed from an awaiting task to the loop thread.
struct CurlSubmission: Sendable {
    let id: UInt64
    let request: HTTPRequest
    let continuation: CheckedContinuation<HTTPResponse, any Error>
}

/// Owns one curl multi handle and the dedicated thread that drives it.
///
/// Blocking in `curl_multi_poll` on a thread of our own keeps network waits off
/// Swift's cooperative pool, which has only as many threads as cores. Other
/// threads talk to the loop only through `inbox` (under a mutex) and
/// `curl_multi_wakeup`, the one multi call libcurl allows from any thread.
///
/// Every continuation is resumed exactly once, by whoever removes its request
/// from the structure that holds it: the inbox (submitter, canceller or
/// shutdown) or the loop's active table (the loop thread alone).
final class CurlMultiLoop: Sendable {
    private struct Inbox: Sendable {
        var submissions: [CurlSubmission] = []
        var cancellations: Set<UInt64> = []
        var shuttingDown = false
    }

    private let inbox = Mutex(Inbox())
    private let nextID = Atomic<UInt64>(0)
    private let connectionCount = Atomic<Int>(0)
    private let configuration: HTTPClientConfiguration
    // Only the loop thread uses the multi handle, apart from curl_multi_wakeup,
    // which libcurl documents as callable from any thread. It is freed in
    // deinit, when no thread can still hold a reference to wake it.
    nonisolated(unsafe) private let multi: UnsafeMutableRawPointer?

    init(configuration: HTTPClientConfiguration) {
        self.configuration = configuration
        if CurlGlobal.ensureInitialized() == nil, let multi = curl_multi_init() {
            let limit = max(1, configuration.maxConnections)
            _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit)
            _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, limit)
            // The idle cache must hold as many connections as we allow open,
            // or a burst's connections get closed right after it and the next
            // burst pays for new handshakes.
            _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, limit)
            self.multi = multi
        } else {
            self.multi = nil
        }
        guard multi != nil else {
            inbox.withLock { $0.shuttingDown = true }
            return
        }
        let thread = Thread { [self] in
            LoopThread(owner: self).run()
        }
        thread.name = "curl-multi"
        thread.start()
    }

    deinit {
        if let multi {
            curl_multi_cleanup(multi)
        }
    }

    var connectionsOpened: Int { connectionCount.load(ordering: .relaxed) }

    func makeID() -> UInt64 {
        nextID.add(1, ordering: .relaxed).newValue
    }

    /// Must be called on the awaiting task, so that `Task.isCancelled` refers
    /// to the request's own task.
    func submit(_ submission: CurlSubmission) {
        enum Verdict { case queued, cancelled, shutDown }
        let verdict = inbox.withLock { inbox -> Verdict in
            if inbox.shuttingDown { return .shutDown }
            // The cancellation handler may already have run and found nothing
            // queued; the task's flag is set before that handler runs, so
            // checking it under the lock closes the gap.
            if Task.isCancelled {
                inbox.cancellations.remove(submission.id)
                return .cancelled
            }
            inbox.submissions.append(submission)
            return .queued
        }
        switch verdict {
        case .queued: wake()
        case .cancelled: submission.continuation.resume(throwing: CancellationError())
        case .shutDown: submission.continuation.resume(throwing: multi == nil ? Self.unavailable : HTTPClientError.shutdown)
        }
    }

    func cancel(_ id: UInt64) {
        let unsent = inbox.withLock { inbox -> CurlSubmission? in
            if let index = inbox.submissions.firstIndex(where: { $0.id == id }) {
                return inbox.submissions.remove(at: index)
            }
            if !inbox.shuttingDown {
                inbox.cancellations.insert(id)
            }
            return nil
        }
        if let unsent {
            unsent.continuation.resume(throwing: CancellationError())
        } else {
            wake()
        }
    }

    func shutdown() {
        let unsent = inbox.withLock { inbox -> [CurlSubmission]? in
            guard !inbox.shuttingDown else { return nil }
            inbox.shuttingDown = true
            defer { inbox.submissions.removeAll() }
            return inbox.submissions
        }
        guard let unsent else { return }
        for submission in unsent {
            submission.continuation.resume(throwing: HTTPClientError.shutdown)
        }
        wake()
    }

    private func wake() {
        if let multi {
            _ = curl_multi_wakeup(multi)
        }
    }

    private static var unavailable: HTTPClientError {
        .connection(CurlGlobal.ensureInitialized() ?? "curl_multi_init failed")
    }

    // MARK: Loop thread

    fileprivate func takeInbox() -> (submissions: [CurlSubmission], cancellations: Set<UInt64>, shuttingDown: Bool) {
        inbox.withLock { inbox in
            defer {
                inbox.submissions.removeAll(keepingCapacity: true)
                inbox.cancellations.removeAll()
            }
            return (inbox.submissions, inbox.cancellations, inbox.shuttingDown)
        }
    }

    fileprivate func recordConnections(_ count: Int) {
        connectionCount.add(count, ordering: .relaxed)
    }

    fileprivate var loopConfiguration: HTTPClientConfiguration { configuration }
    fileprivate var multiHandle: UnsafeMutableRawPointer { multi! }
}

/// The state only the loop thread touches: live transfers and idle handles.
/// Confined to one thread, so it needs no locking and is deliberately not
/// Sendable.
private final class LoopThread {
    private let owner: CurlMultiLoop
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var activeByID: [UInt64: UnsafeMutableRawPointer] = [:]
    private var idleHandles: [CurlEasy] = []
    // Enough to absorb steady traffic without re-creating handles; a burst
    // beyond it just creates a few more and frees them afterwards.
    private let maxIdleHandles = 16

    init(owner: CurlMultiLoop) {
        self.owner = owner
        self.multi = owner.multiHandle
    }

    func run() {
        var running: Int32 = 0
        while true {
            let inbox = owner.takeInbox()
            if inbox.shuttingDown {
                failAll(HTTPClientError.shutdown)
                // Pending submissions were already failed by shutdown().
                idleHandles.removeAll()
                return
            }
            for submission in inbox.submissions {
                start(submission)
            }
            for id in inbox.cancellations {
                // An unknown id already finished, or never got here because
                // its task was cancelled before submitting.
                if let handle = activeByID[id] {
                    finish(handle, with: .failure(CancellationError()))
                }
            }
            _ = curl_multi_perform(multi, &running)
            collectCompleted()
            // curl shortens the wait to its own next timer, so timeouts fire
            // on time; the cap only bounds how stale anything else can get.
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func start(_ submission: CurlSubmission) {
        guard let easy = idleHandles.popLast() ?? CurlEasy() else {
            submission.continuation.resume(throwing: HTTPClientError.connection("curl_easy_init failed"))
            return
        }
        let transfer = CurlTransfer(id: submission.id, easy: easy, request: submission.request,
                                    continuation: submission.continuation)
        do {
            try transfer.configure(submission.request, owner.loopConfiguration)
        } catch {
            recycle(easy)
            submission.continuation.resume(throwing: error)
            return
        }
        let code = curl_multi_add_handle(multi, easy.handle)
        guard code == CURLM_OK else {
            recycle(easy)
            let reason = String(cString: curl_multi_strerror(code))
            submission.continuation.resume(throwing: HTTPClientError.connection("\(transfer.summary): \(reason)"))
            return
        }
        active[easy.handle] = transfer
        activeByID[submission.id] = easy.handle
    }

    private func collectCompleted() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                  let transfer = active[handle] else { continue }
            // Read before finish(): removing the handle does not change the
            // result, but keeps the message pointer's lifetime obvious.
            let code = message.pointee.data.result
            finish(handle, with: transfer.outcome(code).mapError { $0 })
        }
    }

    private func finish(_ handle: UnsafeMutableRawPointer, with result: Result<HTTPResponse, any Error>) {
        guard let transfer = active.removeValue(forKey: handle) else { return }
        activeByID[transfer.id] = nil
        owner.recordConnections(transfer.easy.info(CURLINFO_NUM_CONNECTS) ?? 0)
        // Removing mid-transfer (cancellation) makes curl close that
        // connection rather than return a half-read one to the cache.
        _ = curl_multi_remove_handle(multi, handle)
        recycle(transfer.easy)
        transfer.continuation.resume(with: result)
    }

    private func failAll(_ error: any Error) {
        for handle in Array(active.keys) {
            finish(handle, with: .failure(error))
        }
    }

    private func recycle(_ easy: CurlEasy) {
        guard idleHandles.count < maxIdleHandles else { return }
        easy.reset()
        idleHandles.append(easy)
    }
}
